"""Language labels from untrusted input are only used once found in the ISO table."""

from __future__ import annotations

import pytest

from roots_pipeline.lang.codes import canonical_language, language_name


@pytest.mark.parametrize("label, code", [
    ("fr", "fr"), ("FR", "fr"), ("fra", "fr"), ("fre", "fr"), ("fr-FR", "fr"), ("pt_BR", "pt"),
    ("zh_Hant", "zh_Hant"), ("zh-hans", "zh_Hans"), ("yue", "yue"), ("swa", "sw"), ("sw", "sw"),
    ("und", "und"), ("xx", None), ("fr_Xxxx", None), ("../fr", None), ("", None), (None, None),
    ("fr/../../etc", None), ("english", None),
])
def test_canonical_language(label, code):
    assert canonical_language(label) == code


def test_language_name():
    assert language_name("fr") == "French"
    assert language_name("zh_Hant") == "Chinese"
