"""Errors raised by photodesk.ml: a missing model pack, a broken model, an unreadable image."""

from __future__ import annotations


class MLError(Exception):
    """Base class of every error photodesk.ml raises on purpose."""


class ModelMissingError(MLError):
    """A model pack or one of its files is not installed; the message says how to get it."""


class ModelLoadError(MLError):
    """A model file is there but cannot be used (corrupt, wrong inputs or outputs)."""


class ImageReadError(MLError):
    """An image cannot be opened or decoded."""
