"""The one parser of ids and counts that clients send (URLs, headers, JSON bodies).

Only ASCII digits are digits here: ``str.isdigit`` and ``int`` also accept ``١`` (Arabic-Indic
one), ``¹`` or ``１``, so ``/assets/١`` would read as asset 1. Values beyond SQLite's 64-bit
integers are not ids either (they would fail in the database instead of being not found).
"""

from __future__ import annotations

from typing import Any

MAX_INT = 2**63 - 1  # SQLite INTEGER


def parse_count(value: Any) -> int | None:
    """A whole number 0..2**63-1 from ASCII digits or a JSON integer (not a bool); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_INT else None


def parse_id(value: Any) -> int | None:
    """A catalog id (a positive count), or None."""
    number = parse_count(value)
    return number if number else None


def parse_int(value: str, *, negative: bool = False) -> int | None:
    """A query parameter: ASCII digits with an optional ``-`` when ``negative``; else None."""
    text = value[1:] if negative and value.startswith("-") else value
    number = parse_count(text)
    if number is None:
        return None
    return -number if text is not value else number
