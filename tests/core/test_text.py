"""core/text.py: text that shows what it says."""

import re
import unicodedata

import pytest
from django.core.exceptions import ValidationError

from core.text import (
    BIDI_CONTROLS,
    INVISIBLE_RANGES,
    MESSAGE_BIDI,
    MESSAGE_INVISIBLE,
    OPTIONAL_TEXT_PATTERN,
    VISIBLE_TEXT_PATTERN,
    text_problem,
    validate_visible_text,
)

INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\u3164", "\u2060\ufeff", "\u00a0 \u2003", "\ufe0f", "\u115f"]
BIDI = ["\u202egnp.exe", "a\u202db", "\u2066x\u2069", "x\u200f", "\u061cy"]
FINE = ["a", "Write the report", "🚀", "日本語", "مرحبا", "a\u200db", "x\u0301", "ß"]


def _in_ranges(cp: int, ranges) -> bool:
    return any(a <= cp <= b for a, b in ranges)


def test_the_invisible_table_covers_every_control_format_and_separator_character():
    missing = [
        hex(cp)
        for cp in range(0x110000)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")
        and not _in_ranges(cp, INVISIBLE_RANGES)
    ]
    assert missing == []
    assert all(_in_ranges(a, INVISIBLE_RANGES) and _in_ranges(b, INVISIBLE_RANGES) for a, b in BIDI_CONTROLS)


@pytest.mark.parametrize("value", INVISIBLE)
def test_text_with_no_visible_character_is_refused(value):
    assert text_problem(value) == MESSAGE_INVISIBLE
    assert not re.match(VISIBLE_TEXT_PATTERN, value)
    assert not re.match(OPTIONAL_TEXT_PATTERN, value)


@pytest.mark.parametrize("value", BIDI)
def test_bidi_controls_are_refused_anywhere(value):
    assert text_problem(value) == MESSAGE_BIDI
    assert not re.match(VISIBLE_TEXT_PATTERN, value)
    with pytest.raises(ValidationError, match="text-direction"):
        validate_visible_text(value)


@pytest.mark.parametrize("value", FINE)
def test_visible_text_passes_and_the_pattern_agrees(value):
    assert text_problem(value) is None
    assert re.match(VISIBLE_TEXT_PATTERN, value)
    validate_visible_text(value)


def test_empty_text_is_for_the_caller_to_require():
    assert text_problem("") is None
    assert text_problem("", allow_empty=False) == MESSAGE_INVISIBLE
    assert re.match(OPTIONAL_TEXT_PATTERN, "")
    assert text_problem("a\x00") == "Null characters are not allowed."
    assert text_problem("\ud800") == "Use valid Unicode text."
