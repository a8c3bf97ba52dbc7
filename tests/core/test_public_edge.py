"""The core's public edge (``photodesk.core``): every name it promises resolves to the object its
module defines, and importing one part of the core does not load the others."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import photodesk.core as edge


def test_every_public_name_is_its_modules_object() -> None:
    assert sorted(edge.__all__) == sorted(edge._WHERE)
    for name in edge.__all__:
        module, attr = edge._WHERE[name]
        assert getattr(edge, name) is getattr(importlib.import_module(module), attr), name
    assert set(edge.__all__) <= set(dir(edge))


def test_the_type_checkers_view_of_the_edge_is_the_same() -> None:
    """mypy reads the ``if TYPE_CHECKING:`` imports; the running program reads ``_EDGE``."""
    tree = ast.parse(Path(edge.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    seen = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None
        for alias in node.names:
            seen[alias.asname or alias.name] = (node.module, alias.name)
    assert seen == edge._WHERE


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        edge.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_one_part_of_the_core_loads_only_what_it_needs() -> None:
    # the import workers' module (preloaded by every import process) and the edge itself
    worker = loaded_after("import photodesk.core.ingest.analyze")
    assert "sqlalchemy" not in worker
    assert not {m for m in worker if m.startswith(("photodesk.core.sync", "photodesk.core.dav"))}
    bare = loaded_after("import photodesk.core")
    assert not {m for m in bare if m.startswith("photodesk.core.")}
    errors = loaded_after("from photodesk.core import NotFound")
    assert "sqlalchemy" not in errors and "photodesk.core.library" not in errors
