"""Argument types shared by the subcommands: bad values are usage errors (exit 2) with a reason."""

from __future__ import annotations

import argparse


def count_arg(text: str) -> int:
    """A whole number >= 0 (a limit, a number of days or workers)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_arg(text: str) -> int:
    value = count_arg(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more, not 0")
    return value


def name_arg(text: str) -> str:
    """A name that is not blank (an album, a tag)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text
