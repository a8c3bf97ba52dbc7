"""Per-file import work, run in worker processes: sniff, hash, read metadata, render derivatives."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from photodesk.core.catalog.errors import CorruptFile, UnsupportedFormat
from photodesk.core.ingest.results import Analysis, Failure, FileTask, sha1_file
from photodesk.core.media.formats import sniff
from photodesk.core.media.metadata import read_metadata, read_sidecar
from photodesk.core.media.phash import measure_file
from photodesk.core.media.thumbnails import ThumbnailStore


def analyze(task: FileTask) -> Analysis | Failure:
    """Everything about one file that needs no catalog access. Never raises for bad input."""
    try:
        with warnings.catch_warnings():
            # Libraries warn on stderr about damaged EXIF; the metadata reader reports it instead.
            warnings.simplefilter("ignore")
            return _analyze(task)
    except (CorruptFile, UnsupportedFormat) as exc:
        return Failure(task.path, task.size, task.mtime_ns, str(exc))
    except MemoryError:
        return Failure(task.path, task.size, task.mtime_ns, "too large to decode in memory")
    except OSError as exc:
        return Failure(task.path, task.size, task.mtime_ns, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # a library bug on a hostile file must not stop the import
        return Failure(
            task.path, task.size, task.mtime_ns, f"unreadable: {type(exc).__name__}: {exc}"
        )


def _analyze(task: FileTask) -> Analysis | Failure:
    path = task.path
    st = os.stat(path)
    if st.st_size == 0:
        raise CorruptFile("empty file")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    fmt = sniff(head, os.path.basename(path))
    if fmt is None:
        raise UnsupportedFormat("not a photo or video (content not recognised)")
    meta = read_metadata(Path(path), fmt)
    checksum = task.checksum or sha1_file(path)
    warnings: list[str] = list(meta.warnings)
    sidecar_data = None
    if task.sidecar:
        try:
            sidecar_data = read_sidecar(Path(task.sidecar))
        except (CorruptFile, UnsupportedFormat, OSError) as exc:
            warnings.append(f"sidecar {os.path.basename(task.sidecar)} ignored: {exc}")
    store = ThumbnailStore(Path(task.thumbs_dir), Path(task.previews_dir))
    has_thumb = store.has(checksum)
    if not has_thumb:
        try:
            store.render(Path(path), checksum, fmt.file_type, fmt.kind, meta.orientation)
            has_thumb = True
        except (CorruptFile, UnsupportedFormat) as exc:
            if fmt.kind != "raw":
                # A photo or video whose pixels cannot be decoded is broken, whatever its header.
                raise
            # Many RAW files decode only partly (new cameras, header-only samples): keep the asset,
            # its metadata is right, and say why it has no preview.
            warnings.append(f"no preview: {exc}")
    measured = measure_file(store.thumb_path(checksum)) if has_thumb else None
    return Analysis(
        path=path,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        checksum=checksum,
        meta=meta,
        sidecar=task.sidecar,
        sidecar_data=sidecar_data,
        has_thumbnail=has_thumb,
        warnings=tuple(warnings),
        phash=measured[0] if measured else None,
        sharpness=measured[1] if measured else None,
    )
