"""PII detection and redaction (roots_pipeline/cleaning/pii.py) and the `pii_redaction` stage."""

from __future__ import annotations

import json
import re

import pytest

from roots_pipeline.cleaning.pii import find_pii, redact
from roots_pipeline.document import Document
from roots_pipeline.stages.apply import ApplyStages
from roots_pipeline.stages.pii_redaction import PiiRedaction
from tests.conftest import DEMO


def found(text: str, tag: str) -> list[str]:
    return [matched for t, matched in find_pii(text, (tag,)) if t == tag]


# --- EMAIL -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Traduction par Jean-Pierre Giraud <jean-pierregiraud@neuf.fr>, 2010.",
     ["jean-pierregiraud@neuf.fr"]),
    ("Écrivez à frederic.delanoy@yahoo.com.", ["frederic.delanoy@yahoo.com"]),
    ("(contact: delanoy_f@yahoo.com), ou rd6137@gmail.com;", ["delanoy_f@yahoo.com", "rd6137@gmail.com"]),
    ("mailto:simon.paillard@resel.enst-bretagne.fr?subject=man", ["simon.paillard@resel.enst-bretagne.fr"]),
    ("请联系zhang.wei@example.com谢谢", ["zhang.wei@example.com"]),
    ("邮箱：li.na+news@mail.example.cn。", ["li.na+news@mail.example.cn"]),
    ("메일은kim@example.co.kr입니다", ["kim@example.co.kr"]),
    ("josé.garcía@correo.es escribió", ["josé.garcía@correo.es"]),
])
def test_email_is_found_with_its_exact_boundaries(text, expected):
    assert found(text, "EMAIL") == expected


@pytest.mark.parametrize("text", [
    "Suivez @bigscience sur Twitter",
    "user@localhost n'a pas de domaine",
    "version python@3 installée",
    "adresse incomplète: john.@example.com",
    "a@b.c1 n'a pas de vrai domaine",
])
def test_email_negatives(text):
    assert found(text, "EMAIL") == []


# --- USER ------------------------------------------------------------------------------------

def test_user_handles_but_not_email_domains():
    text = "Merci à @jean_luc et @Marie.Curie. Écrire à marie@curie.fr ; @ab est trop court, @100 un prix."
    assert found(text, "USER") == ["@jean_luc", "@Marie.Curie"]
    assert find_pii(text) == [("USER", "@jean_luc"), ("USER", "@Marie.Curie"), ("EMAIL", "marie@curie.fr")]


def test_user_next_to_cjk_text():
    assert found("转发@bigscience：好消息", "USER") == ["@bigscience"]


# --- IP_ADDRESS ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Le serveur 192.168.1.254 répond.", ["192.168.1.254"]),
    ("ping 10.0.0.1, puis 82.64.12.7.", ["10.0.0.1", "82.64.12.7"]),
    ("smtp99.hostname.dom has address 123.234.123.89\n", ["123.234.123.89"]),
    ("http://172.16.0.3:8080/admin", ["172.16.0.3"]),
    ("服务器10.0.0.1上线", ["10.0.0.1"]),
    ("loopback ::1 and [::1]:443", ["::1", "::1"]),
    ("documentation prefix 2001:db8::8a2e:370:7334 and fe80::1", ["2001:db8::8a2e:370:7334", "fe80::1"]),
    ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 here", ["2001:0db8:85a3:0000:0000:8a2e:0370:7334"]),
    ("mapped ::ffff:192.0.2.128 here", ["::ffff:192.0.2.128"]),
])
def test_ip_addresses_v4_and_v6(text, expected):
    assert found(text, "IP_ADDRESS") == expected


@pytest.mark.parametrize("text", [
    "Publié le 2021.10.05, mis à jour le 05.10.2021 et le 2021-10-05.",
    "le 10.05.21 à 12:30:45",
    "Version 1.2.3, puis 2.10.1 et 3.10.4.",
    "mise à jour v3.4.5.6 ou version 1.2.3.4, build 10.0.2.15",
    "OID 1.3.6.1.4.1 et section 2.1.3.4.5",
    "Voir la section 6.2.4.3, « La configuration » et 1.2.3.4",
    "12.6.2.1. Compilando e instalando\n12.6.2.2. Desinstalar",
    "999.168.1.1 n'est pas une adresse",
    "slices x[1::2] and a::2, C++ std::vector, Module::Class",
    "::",
])
def test_dates_versions_and_lookalikes_are_not_ip_addresses(text):
    assert found(text, "IP_ADDRESS") == []


# --- KEY -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("md5 d41d8cd98f00b204e9800998ecf8427e ok", ["d41d8cd98f00b204e9800998ecf8427e"]),
    ("SHA-256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
     ["9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"]),
    ("id=123e4567-e89b-12d3-a456-426614174000;", ["123e4567-e89b-12d3-a456-426614174000"]),
    ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", ["ghp_16C7e42F292c6912E7710c838347Ae178B4a"]),
    ("clé produit VK7JG-NPHTM-C97JM-9MPGT-3V66T.", ["VK7JG-NPHTM-C97JM-9MPGT-3V66T"]),
    ("密钥sk_live_4eC39HqLyjWDarjtT1zdp7dc已过期", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]),
    ("aws_secret=wJalrXUtn/K7MDENG/bPxRfiCY1a2B3c4D5e==;", ["wJalrXUtn/K7MDENG/bPxRfiCY1a2B3c4D5e=="]),
])
def test_keys_and_hashes(text, expected):
    assert found(text, "KEY") == expected


@pytest.mark.parametrize("text", [
    "La pandémie de COVID-19 en 2021 et 2022, H1N1, MP3, iPhone13.",
    "Paquet x86_64-linux-gnu, ISO-8859-15, UTF-8, ISO-IEC-27001, SARS-CoV-2.",
    "fichier mp3-128kbps-44khz-v2.mp3 et la caféine C8H10N4O2",
    "belle-mère, mother-in-law-to-be, /usr/lib/x86_64-linux-gnu/libc.so.6",
    "http://cdimage.debian.org/debian-cd/5.0.3/amd64/iso-cd/debian-503-amd64-netinst.iso",
    "Téléphone: 01 23 45 67 89, carte 4111 1111 1111 1111",
    "anticonstitutionnellement, dQw4w9WgXcQ",
])
def test_ordinary_words_numbers_and_codes_are_not_keys(text):
    assert found(text, "KEY") == []


# --- redaction ---------------------------------------------------------------------------------

def test_each_match_is_replaced_everywhere_and_nothing_else_changes():
    text = ("Auteur : <barbier@debian.org>\n"
            "Relu par barbier@debian.org, serveur 10.1.2.3 (aussi 10.1.2.3).\n"
            "Merci @tvignaud ! 用户@tvignaud说")
    redacted, counts = redact(text)
    assert redacted == ("Auteur : <PI:EMAIL>\n"
                        "Relu par PI:EMAIL, serveur PI:IP_ADDRESS (aussi PI:IP_ADDRESS).\n"
                        "Merci PI:USER ! 用户PI:USER说")
    assert counts == {"EMAIL": 2, "IP_ADDRESS": 2, "USER": 2}


def test_a_longer_match_wins_over_a_key_inside_it():
    redacted, counts = redact("a1b2c3d4e5f6@example.org et a1b2c3d4e5f6 seul")
    assert redacted == "PI:EMAIL et PI:KEY seul"
    assert counts == {"EMAIL": 1, "KEY": 1}


def test_only_the_selected_tags_are_redacted():
    text = "contact@example.org depuis 10.0.0.1"
    assert redact(text, ("IP_ADDRESS",)) == ("contact@example.org depuis PI:IP_ADDRESS", {"IP_ADDRESS": 1})
    assert redact("Texte ordinaire, rien à cacher.") == ("Texte ordinaire, rien à cacher.", {})
    with pytest.raises(ValueError, match="PHONE"):
        find_pii(text, ("PHONE",))


# --- the stage -------------------------------------------------------------------------------

def doc(text: str, source: str = "oscar") -> Document:
    return Document("1", text, source, "d", "fr")


def test_stage_redacts_only_its_sources_and_notes_each_occurrence():
    text = "Écrire à a.b@example.fr ou a.b@example.fr, @someone, 192.0.2.1"
    oscar = doc(text)
    PiiRedaction().apply(oscar)
    assert oscar.text == "Écrire à PI:EMAIL ou PI:EMAIL, PI:USER, PI:IP_ADDRESS"
    assert sorted(oscar.notes) == ["pii_redaction:EMAIL", "pii_redaction:EMAIL",
                                   "pii_redaction:IP_ADDRESS", "pii_redaction:USER"]
    assert not oscar.reasons
    catalogue = doc(text, "catalogue")
    assert PiiRedaction().applies_to(oscar) and not PiiRedaction().applies_to(catalogue)
    assert PiiRedaction(sources=()).applies_to(catalogue)
    stage = ApplyStages((PiiRedaction(tags=("EMAIL",), sources=("catalogue",)),), None)
    stage.setup()
    (kept, notes) = list(stage.process([doc(text), catalogue]))
    assert [d.text for d in kept] == [text, "Écrire à PI:EMAIL ou PI:EMAIL, @someone, 192.0.2.1"]
    assert notes.value == (("catalogue", "d", "fr", "note", "pii_redaction:EMAIL"), (2, 0))


@pytest.mark.parametrize("options, key, problem", [
    ({"tags": ["EMAIL", "PHONE"]}, "tags", "'PHONE'"),
    ({"tags": []}, "tags", "at least one"),
    ({"sources": ["oscar", "wikipedia"]}, "sources", "'wikipedia'"),
    ({"sources": "commoncrawl"}, "sources", "'commoncrawl'"),
    ({"tags": "EMAIL", "colour": 1}, "colour", "unknown key"),
])
def test_options_are_validated_through_the_recipe_loader(options, key, problem):
    from roots_pipeline.errors import RecipeError
    from roots_pipeline.options import build_options
    from roots_pipeline.stages import STAGES

    with pytest.raises(RecipeError) as info:
        build_options(STAGES["pii_redaction"], options, "r.yaml", "stages[0].pii_redaction")
    assert info.value.key == f"stages[0].pii_redaction.{key}"
    assert problem in info.value.problem


def test_options_accept_a_single_string_for_a_list():
    from roots_pipeline.options import build_options

    stage = build_options(PiiRedaction, {"tags": "EMAIL", "sources": ["catalogue", "oscar"]}, "r", "s")
    assert stage == PiiRedaction(tags=("EMAIL",), sources=("catalogue", "oscar"))


def test_end_to_end_on_the_demo_manpages_translation_credits(tmp_path):
    import datasets

    from roots_pipeline.recipe import adhoc_recipe
    from roots_pipeline.runner.pipeline import run_recipe

    source = DEMO / "catalogue" / "manpages_fr"
    original = "\n".join(datasets.load_from_disk(str(source))["text"])
    assert re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", original)  # the fixture does hold addresses
    recipe = adhoc_recipe([f"catalogue={source}"], "fr", str(tmp_path / "run"),
                          [("pii_redaction", {"sources": ["catalogue"]})])
    result = run_recipe(recipe, [], show_progress=False)
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    emails = sum(e["notes"].get("pii_redaction:EMAIL", 0) for e in stats["entries"])
    assert emails > 0 and stats == result.stats
    kept = datasets.load_from_disk(str(tmp_path / "run" / "data" / "fr"))
    texts = "\n".join(kept["text"])
    assert len(kept) == 157
    assert "PI:EMAIL" in texts
    assert not re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", texts)
    assert texts.count("PI:EMAIL") == emails
