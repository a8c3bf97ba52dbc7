"""Where copied imports go: storage templates and copies that never overwrite."""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from photodesk.core.catalog.errors import InvalidInput
from photodesk.core.catalog.procs import remove_dead_temps
from photodesk.core.ingest.results import Analysis, sha1_file

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')

COPY_TEMP_SUFFIX = ".photodesk-tmp"  # copy_exclusive's temp files in originals/


def _component(value: str | None, fallback: str) -> str:
    text = _UNSAFE.sub("_", (value or "").strip()).strip(". ")
    return text or fallback


TEMPLATE_FIELDS = ("year", "month", "day", "filename", "stem", "ext", "make", "model", "checksum")


def check_template(template: str) -> str:
    """``template`` if it expands, else InvalidInput naming the fields a template may use."""
    fields = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    try:
        template.format(**dict.fromkeys(TEMPLATE_FIELDS, "x"))
    except KeyError as exc:
        raise InvalidInput(f"unknown field {{{exc.args[0]}}} in template {template!r}; "
                           f"use {fields}") from exc  # fmt: skip
    except (ValueError, IndexError, AttributeError) as exc:
        raise InvalidInput(f"bad template {template!r}: {exc}; use {fields}") from exc
    return template


def expand_template(template: str, a: Analysis) -> str:
    """A path under originals/ from a storage template like ``{year}/{month}/{filename}``."""
    taken = a.meta.taken_at or datetime.fromtimestamp(a.mtime_ns / 1e9)
    name = os.path.basename(a.path)
    stem, ext = os.path.splitext(name)
    values = {
        "year": f"{taken.year:04d}",
        "month": f"{taken.month:02d}",
        "day": f"{taken.day:02d}",
        "filename": name,
        "stem": stem,
        "ext": ext.lstrip("."),
        "make": _component(a.meta.make, "Unknown"),
        "model": _component(a.meta.model, "Unknown"),
        "checksum": a.checksum[:8],
    }
    rel = template.format(**values)
    parts = [
        _component(p, "_") for p in rel.replace("\\", "/").split("/") if p not in ("", ".", "..")
    ]
    return os.path.join(*parts) if parts else name


def copy_exclusive(
    src: str,
    dest_dir: Path,
    rel: str,
    *,
    checksum: str | None = None,
    referenced: Callable[[str], bool] = lambda _: True,
) -> str:
    """Copy ``src`` to ``dest_dir/rel`` without ever overwriting: ``name_1.jpg`` on collision.

    A file already at a candidate name with the same content that no asset references is the
    copy a crashed import made before it could record it: it is reused, not copied again.
    """
    target = dest_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, ext = os.path.splitext(target.name)
    size = os.path.getsize(src)
    tmp: Path | None = None
    try:
        n = 0
        while True:
            candidate = target if n == 0 else target.with_name(f"{stem}_{n}{ext}")
            if candidate.exists():
                if (
                    checksum
                    and candidate.stat().st_size == size
                    and not referenced(str(candidate))
                    and sha1_file(str(candidate)) == checksum
                ):
                    return str(candidate)
                n += 1
                continue
            if tmp is None:
                # A killed import's partial copy of this very file: its writer is dead.
                remove_dead_temps(
                    target.parent,
                    f".{glob.escape(target.name)}.*{COPY_TEMP_SUFFIX}",
                    target.name.count(".") + 2,
                )
                tmp = target.parent / f".{target.name}.{os.getpid()}{COPY_TEMP_SUFFIX}"
                shutil.copyfile(src, tmp)
                shutil.copystat(src, tmp)
            try:
                os.link(tmp, candidate)  # atomic and fails if the name is taken
            except FileExistsError:
                continue
            except OSError:  # file systems without hard links (exFAT, some SMB mounts)
                if candidate.exists():
                    continue
                os.replace(tmp, candidate)
            return str(candidate)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def link_exclusive(src: Path, target: Path, *, keep_source: bool = False) -> Path:
    """Move ``src`` to ``target`` (or ``name_1.ext``...) atomically, never replacing a file
    (``keep_source``: link or copy it there, and leave ``src``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, ext = os.path.splitext(target.name)
    n = 0
    while True:
        candidate = target if n == 0 else target.with_name(f"{stem}_{n}{ext}")
        n += 1
        try:
            os.link(src, candidate)  # atomic, and fails if the name is taken
        except FileExistsError:
            continue
        except OSError as exc:
            if candidate.exists():
                continue
            if exc.errno == errno.EXDEV:  # another file system after all: copy, then link
                tmp = candidate.with_name(f".{candidate.name}.{os.getpid()}{COPY_TEMP_SUFFIX}")
                try:
                    shutil.copyfile(src, tmp)
                    with open(tmp, "rb+") as fh:
                        os.fsync(fh.fileno())
                    return link_exclusive(tmp, candidate)
                finally:
                    tmp.unlink(missing_ok=True)
            if keep_source:  # no hard links here (exFAT, some SMB mounts): a copy
                tmp = candidate.with_name(f".{candidate.name}.{os.getpid()}{COPY_TEMP_SUFFIX}")
                try:
                    shutil.copyfile(src, tmp)
                    return link_exclusive(tmp, candidate)
                finally:
                    tmp.unlink(missing_ok=True)
            os.replace(src, candidate)  # no hard links here (exFAT, some SMB mounts)
            return candidate
        if not keep_source:
            src.unlink()
        return candidate


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
