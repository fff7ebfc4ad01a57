"""Language identification: the packaged lid.176 model, the label table, and the stage's notes."""

from __future__ import annotations

import pytest

from roots_pipeline.document import Document
from roots_pipeline.errors import RootsError
from roots_pipeline.lang.config import LID176_LABELS, code_of_lid_label, load_language
from roots_pipeline.lang.identify import LanguageIdentifier, packaged_model, resolve_model, top_language
from roots_pipeline.stages.language_id import LanguageId

FRENCH = "Le chat dort sur le canapé pendant que les enfants jouent dans le jardin avec le chien."
ENGLISH = "The cat sleeps on the sofa while the children play in the garden with the dog."


def test_the_model_comes_from_an_installed_package():
    path = packaged_model()
    assert path is not None and path.endswith("lid.176.ftz")
    assert resolve_model(None) == path
    with pytest.raises(RootsError, match="language-id model not found: /nowhere"):
        resolve_model("/nowhere/lid.bin")


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    junk = tmp_path / "lid.bin"
    junk.write_bytes(b"not a fasttext model at all" * 10)
    with pytest.raises(RootsError, match="cannot load language-id model"):
        LanguageIdentifier(str(junk))


def test_every_label_maps_to_a_code_that_maps_back():
    for label in LID176_LABELS:
        code = code_of_lid_label(label)
        if code is None:
            assert label in {"eml", "nah"}
            continue
        assert label in load_language(code, fallback=True).lid_labels, (label, code)
    assert code_of_lid_label("no") == "nb" and code_of_lid_label("tl") == "fil"
    assert code_of_lid_label("als") == "gsw" and code_of_lid_label("xx") is None


def test_predictions_are_probabilities_most_likely_first():
    identifier = LanguageIdentifier(resolve_model(None))
    (french, english, newlines) = identifier.predict([FRENCH, ENGLISH, FRENCH.replace(" ", "\n")])
    assert top_language(french)[0] == "fr" and top_language(english)[0] == "en"
    assert newlines == french  # ROOTS: newlines read as spaces, text lowercased
    probabilities = [p for _, p in french]
    assert probabilities == sorted(probabilities, reverse=True) and 0.9 < probabilities[0] <= 1.0
    assert top_language([]) == (None, 0.0)


def test_stage_keeps_declared_languages_and_notes_disagreements():
    docs = [Document("1", FRENCH, "catalogue", "books", "fr"),
            Document("2", ENGLISH, "catalogue", "books", "fr"),  # declared French, reads English
            Document("3", ENGLISH, "pseudo_crawl", "crawl", "und"),
            Document("4", "Ọmọ náà ń sùn", "catalogue", "yo_books", "ig")]  # lid.176 has no Igbo
    LanguageId().apply_batch(docs)
    assert [d.lang for d in docs] == ["fr", "fr", "en", "ig"]
    assert docs[0].scores["lang_id"] > 0.9 and docs[1].scores["lang_id"] < 0.05
    assert docs[2].scores["lang_id"] > 0.9 and "lang_id" not in docs[3].scores
    assert [d.notes for d in docs] == [[], ["language_id:disagrees"], ["language_id:identified"],
                                       ["language_id:not_in_model"]]
    assert all(not d.reasons for d in docs)  # identification never rejects
