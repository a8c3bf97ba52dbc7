"""Dialogs (import, preferences, share)."""
