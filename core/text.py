"""Text that shows what it says: one rule for every name and title people type.

A value is refused when it
- holds a NUL (PostgreSQL cannot store it) or a lone surrogate (not encodable);
- holds a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE and its kin):
  `\u202egnp.exe` displays as `exe.png`, so what a person reads is not what is stored;
- is not empty but has no visible character: only spaces, zero-width characters, fillers
  (U+3164 HANGUL FILLER) or other format characters, which leave a row with nothing to
  click and an organisation name that looks blank.

The same rule is a regular expression (`VISIBLE_TEXT_PATTERN`, `OPTIONAL_TEXT_PATTERN`)
for the OpenAPI schema, so an API client and schemathesis know it before sending.
Invisible characters are Unicode's control (Cc), format (Cf), surrogate (Cs) and separator
(Z*) categories plus the default-ignorable fillers and variation selectors, as of Unicode
14 (Python 3.11); tests/core/test_text.py checks the table against `unicodedata`.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Bidirectional controls: embeddings, overrides, isolates and the implicit marks.
BIDI_CONTROLS: tuple[tuple[int, int], ...] = (
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
)

# Code points that draw nothing on their own (inclusive ranges). Includes BIDI_CONTROLS.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x1680, 0x1680),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x2800, 0x2800),
    (0x3000, 0x3000),
    (0x3164, 0x3164),
    (0xD800, 0xDFFF),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xE0100, 0xE01EF),
)

MESSAGE_NUL = "Null characters are not allowed."
MESSAGE_UNICODE = "Use valid Unicode text."
MESSAGE_BIDI = (
    "Remove the text-direction control characters (such as U+202E): "
    "they make the text display differently from what it says."
)
MESSAGE_INVISIBLE = "Use at least one visible character (a letter, digit or symbol)."


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    # No surrogates: JSON Schema validators built on Rust's regex cannot name them, and
    # text_problem refuses lone surrogates before any pattern is consulted.
    return "".join(
        _escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges if not 0xD800 <= a <= 0xDFFF
    )


# Characters allowed anywhere: everything but NUL and bidi controls.
_ALLOWED = f"[^\\u0000{_char_class(BIDI_CONTROLS)}]"
# One visible character.
_VISIBLE = f"[^{_char_class(INVISIBLE_RANGES)}]"
# Read alike by Python's `re` (pydantic's python-re engine) and Rust's regex (schemathesis'
# validator): \uXXXX and \UXXXXXXXX escapes, no surrogates.
VISIBLE_TEXT_PATTERN = f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$"
OPTIONAL_TEXT_PATTERN = f"^$|{VISIBLE_TEXT_PATTERN}"
# Any text the database can store, for search words and the like.
STORABLE_TEXT_PATTERN = r"^[^\x00]*$"

_BIDI_RE = re.compile(f"[{_char_class(BIDI_CONTROLS)}]")
_VISIBLE_RE = re.compile(_VISIBLE)


def text_problem(value: str, *, allow_empty: bool = True) -> str | None:
    """Why `value` cannot be stored as a name or title, or None when it can.

    Empty text passes when `allow_empty`; "required" is the caller's own message.
    """
    if "\x00" in value:
        return MESSAGE_NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return MESSAGE_UNICODE
    if _BIDI_RE.search(value):
        return MESSAGE_BIDI
    if value == "" and allow_empty:
        return None
    if not _VISIBLE_RE.search(value):
        return MESSAGE_INVISIBLE
    return None


def text_has_visible(value: str) -> bool:
    return bool(_VISIBLE_RE.search(value))


@deconstructible
class VisibleTextValidator:
    """A form or model field validator: `text_problem` as a ValidationError (code "text")."""

    code = "text"

    def __call__(self, value: object) -> None:
        if not isinstance(value, str):
            return
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VisibleTextValidator)

    def __hash__(self) -> int:
        return hash(VisibleTextValidator)


validate_visible_text = VisibleTextValidator()
