"""The CLI's command registry: each command module declares a ``COMMAND`` (its sub-parsers and
what runs it) and ``photodesk.cli.main.COMMANDS`` lists the modules. A new command: a module with
``add_parser``, ``run`` and ``COMMAND = Command(...)``, and one line in ``COMMANDS``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from photodesk.core import Library, LibraryOptions

Run = Callable[[Library, argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One or more top-level commands (``names``) defined by one module."""

    names: tuple[str, ...]
    add_parser: Callable[[Any], None]  # adds the sub-parsers to the top-level subparsers
    run: Run | None = None  # runs on the library the composition root opened (and closes)
    run_alone: Callable[[argparse.Namespace], int] | None = None  # opens no library itself
    library_options: Callable[[argparse.Namespace], LibraryOptions | None] | None = None
