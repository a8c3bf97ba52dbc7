"""Exact-case file existence: after a case-only rename, ``os.path.exists`` still finds the old
name on case-insensitive file systems (macOS, Windows, SMB shares)."""

from __future__ import annotations

import os


class ExactNames:
    """Whether a path exists with exactly this case (after a case-only rename ``os.path.exists``
    still says yes for the old name on macOS, Windows and SMB shares); one listing per folder."""

    def __init__(self) -> None:
        self._names: dict[str, set[str] | None] = {}

    def exists(self, path: str) -> bool:
        folder, name = os.path.split(path)
        if folder not in self._names:
            try:
                self._names[folder] = set(os.listdir(folder))
            except OSError:
                self._names[folder] = None
        names = self._names[folder]
        return names is not None and name in names
