"""photodesk: a fast, offline-first photo manager."""

__version__ = "0.1.0"
