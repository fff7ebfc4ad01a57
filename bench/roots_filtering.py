"""ROOTS's own quality-filter code, one document at a time: the baseline side of `bench/filters.py`.

Not imported by anything: `bench/filters.py` starts it as a child process, with a Python that can
import data_tooling's `ac_dc/filtering.py` (numpy, pandas, `emoji==1.6.1`, fasttext, sentencepiece,
kenlm), and talks to it in JSON lines on stdin/stdout, so that the module is loaded once and only
its per-document loop is timed. Nothing of ROOTS's code is copied here: `filtering.py` and its
sibling files are imported from the checkout given on the command line.

    python bench/roots_filtering.py AC_DC_FOLDER PARAMETERS_JSON MODELS_FOLDER|- CPU

Parameters are the production ones of `PARAMETERS_JSON` (shared/reference/filter_parameters.json,
the values of ROOTS's `parameters_filtering.py`), whose character-set names are resolved to ROOTS's
own `special_characters_default`; stopwords and flagged words come from ROOTS's `stopwords.py` and
`flagged_words.py`. For each document, as ROOTS's `FunctionDatasetModifyingDocuments` and
`Filtering` do: stage A (`modifying_documents`), then the six model-free scores with the
`compute_*` functions the `check_*` filters call (and `compute_perplexity_score` when asked).

Commands (one JSON object a line; one answer a line):
    {"op": "load", "corpus": PATH}     PATH holds {lang: [text, ...]}; answers the languages
    {"op": "score", "perplexity": B}  per language and document: stage-A text, scores, failed
                                       filters (every `check_*` that fails), keep (`Filtering.filtering`)
    {"op": "time", "perplexity": B}   per language: seconds of one pass of the per-document loop
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    ac_dc, parameters_path, models, cpu = argv
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu)})
    sys.path.insert(0, ac_dc)
    import kenlm
    import parameters_filtering
    import sentencepiece
    from filtering import Filtering, LoadParameters, ModifyingDocuments

    with open(parameters_path, encoding="utf-8") as handle:
        production = json.load(handle)
    sets = {"special_characters_default": parameters_filtering.special_characters_default}

    class Language:
        """One language's parameters, word lists and models, loaded as FunctionDatasetFiltering does."""

        def __init__(self, lang: str) -> None:
            param = dict(production.get(lang, production["default"]))
            for key in ("strip_characters", "special_characters"):
                param[key] = sets[param[key]]
            self.param = param
            self.stopwords = LoadParameters.load_stopwords(lang)
            self.flagged_words = LoadParameters.load_flagged_words(lang)
            self.sentencepiece = self.kenlm = None
            if models != "-":
                stem = os.path.join(models, lang)
                if os.path.exists(stem + ".sp.model"):
                    self.sentencepiece = sentencepiece.SentencePieceProcessor()
                    self.sentencepiece.load(stem + ".sp.model")
                quiet = kenlm.Config()
                quiet.show_progress = False  # loading is not timed; only its progress bar goes
                for suffix in (".arpa.bin", ".arpa"):
                    if self.kenlm is None and os.path.exists(stem + suffix):
                        self.kenlm = kenlm.Model(stem + suffix, quiet)
            self.tokenizer = self.sentencepiece if param["tokenization"] else None

        def modify(self, document: str) -> str:
            p = self.param
            return ModifyingDocuments.modifying_documents(
                document,
                cond_uniform_whitespace=p["cond_uniform_whitespace"],
                cond_replace_unicode_punctuation=p["cond_replace_unicode_punctuation"],
                cond_remove_words_with_incorrect_substrings=p["cond_remove_words_with_incorrect_substrings"],
                strip_characters=p["strip_characters"],
                incorrect_word_substrings=p["incorrect_word_substrings"],
                cond_remove_long_words=p["cond_remove_long_words"],
                length_word_max_cutoff=p["length_word_max_cutoff"],
            )

        def scores(self, document: str, perplexity: bool) -> dict:
            p, strip, tokenizer = self.param, self.param["strip_characters"], self.tokenizer
            augmentation = (p["cond_words_augmentation"], p["words_augmentation_group_sizes"],
                            p["words_augmentation_join_char"])
            scores = {
                "number_words": len(ModifyingDocuments.get_words_from_document(
                    document, tokenizer, lower_case=False, strip_characters=strip)),
                "character_repetition": Filtering.compute_character_repetition_ratio(
                    document, p["character_repetition_length"]),
                "word_repetition": Filtering.compute_word_repetition_ratio(
                    document, tokenizer, strip, p["word_repetition_length"]),
                "special_characters": Filtering.compute_special_characters_ratio(
                    document, p["special_characters"]),
            }
            if self.stopwords:
                scores["closed_class_words"] = Filtering.compute_stopwords_ratio(
                    document, tokenizer, strip, *augmentation, self.stopwords)
            if self.flagged_words:
                scores["flagged_words"] = Filtering.compute_flagged_words_ratio(
                    document, tokenizer, strip, *augmentation, self.flagged_words)
            if perplexity:
                scores["perplexity"] = Filtering.compute_perplexity_score(
                    document, self.sentencepiece, self.kenlm)
            return scores

        def failed(self, document: str, perplexity: bool) -> list[str]:
            """Return the name of every check_* filter that rejects the document, in ROOTS's order."""
            p, strip, tokenizer = self.param, self.param["strip_characters"], self.tokenizer
            augmentation = (p["cond_words_augmentation"], p["words_augmentation_group_sizes"],
                            p["words_augmentation_join_char"])
            checks = [
                ("number_words", p["cond_check_number_words"], lambda: Filtering.check_number_words(
                    document, tokenizer, strip, p["number_words_min_cutoff"], p["number_words_max_cutoff"])),
                ("character_repetition", p["cond_check_character_repetition_removal"],
                 lambda: Filtering.check_character_repetition_removal(
                     document, p["character_repetition_length"], p["character_repetition_max_cutoff"])),
                ("word_repetition", p["cond_check_word_repetition_removal"],
                 lambda: Filtering.check_word_repetition_removal(
                     document, tokenizer, strip, p["word_repetition_length"],
                     p["word_repetition_max_cutoff"])),
                ("special_characters", p["cond_check_special_characters"],
                 lambda: Filtering.check_special_characters(
                     document, p["special_characters"], p["special_characters_max_cutoff"])),
                ("closed_class_words", p["cond_check_stopwords"], lambda: Filtering.check_stopwords(
                    document, tokenizer, strip, *augmentation, self.stopwords, p["stopwords_min_cutoff"])),
                ("flagged_words", p["cond_check_flagged_words"], lambda: Filtering.check_flagged_words(
                    document, tokenizer, strip, *augmentation, self.flagged_words,
                    p["flagged_words_max_cutoff"])),
                ("perplexity", p["cond_check_perplexity"] and perplexity, lambda: Filtering.check_perplexity(
                    document, self.sentencepiece, self.kenlm, p["perplexity_max_cutoff"])),
            ]
            return [name for name, on, check in checks if on and not check()]

        def keep(self, document: str, perplexity: bool) -> bool:
            """ROOTS's own decision, lang-id left out (the bench times no language identification)."""
            p = self.param
            return Filtering.filtering(
                document=document,
                cond_check_number_words=p["cond_check_number_words"],
                sentencepiece_model_tok=self.tokenizer,
                strip_characters=p["strip_characters"],
                number_words_min_cutoff=p["number_words_min_cutoff"],
                number_words_max_cutoff=p["number_words_max_cutoff"],
                cond_check_character_repetition_removal=p["cond_check_character_repetition_removal"],
                character_repetition_length=p["character_repetition_length"],
                character_repetition_max_cutoff=p["character_repetition_max_cutoff"],
                cond_check_word_repetition_removal=p["cond_check_word_repetition_removal"],
                word_repetition_length=p["word_repetition_length"],
                word_repetition_max_cutoff=p["word_repetition_max_cutoff"],
                cond_check_special_characters=p["cond_check_special_characters"],
                special_characters=p["special_characters"],
                special_characters_max_cutoff=p["special_characters_max_cutoff"],
                cond_words_augmentation=p["cond_words_augmentation"],
                words_augmentation_group_sizes=p["words_augmentation_group_sizes"],
                words_augmentation_join_char=p["words_augmentation_join_char"],
                cond_check_stopwords=p["cond_check_stopwords"],
                stopwords=self.stopwords,
                stopwords_min_cutoff=p["stopwords_min_cutoff"],
                cond_check_flagged_words=p["cond_check_flagged_words"],
                flagged_words=self.flagged_words,
                flagged_words_max_cutoff=p["flagged_words_max_cutoff"],
                cond_check_lang_id=False,
                lang_dataset_id=None,
                model_lang_id=None,
                lang_id_min_cutoff=p["lang_id_min_cutoff"],
                cond_check_perplexity=p["cond_check_perplexity"] and perplexity,
                sentencepiece_model=self.sentencepiece,
                kenlm_model=self.kenlm,
                perplexity_max_cutoff=p["perplexity_max_cutoff"],
            )

    corpus: dict[str, list[str]] = {}
    languages: dict[str, Language] = {}
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "load":
            with open(command["corpus"], encoding="utf-8") as handle:
                corpus = json.load(handle)
            languages = {lang: Language(lang) for lang in corpus}
            answer: object = {lang: {"perplexity": language.kenlm is not None,
                                     "tokenizer": language.tokenizer is not None}
                              for lang, language in languages.items()}
        elif op == "score":
            perplexity = command["perplexity"]
            answer = {}
            for lang, texts in corpus.items():
                language = languages[lang]
                results = []
                for text in texts:
                    document = language.modify(text)
                    results.append({"text": document, "scores": language.scores(document, perplexity),
                                    "failed": language.failed(document, perplexity),
                                    "keep": language.keep(document, perplexity)})
                answer[lang] = results
        elif op == "time":
            perplexity = command["perplexity"]
            answer = {}
            for lang, texts in corpus.items():
                language = languages[lang]
                started = time.perf_counter()
                for text in texts:
                    language.scores(language.modify(text), perplexity)
                answer[lang] = time.perf_counter() - started
        else:
            answer = {"error": f"unknown op {op!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
