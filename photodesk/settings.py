"""Where the library lives: --library, else PHOTODESK_LIBRARY, else the user data folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_LIBRARY = "PHOTODESK_LIBRARY"


def default_library_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("photodesk", appauthor=False)) / "Library"


def resolve_library_dir(arg: str | os.PathLike[str] | None) -> Path:
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get(ENV_LIBRARY)
    if env:
        return Path(env).expanduser()
    return default_library_dir()
