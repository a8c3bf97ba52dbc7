"""A photo the ML jobs cannot analyse (a RAW without any preview) is marked once, with the reason
in its failed job, and the start-up catch-up does not queue it again until it changes or the
user asks (`photodesk index --retry-failed`)."""

from __future__ import annotations

import os
from pathlib import Path

from photodesk.core import Library
from photodesk.core.inference.models import Models
from tests.core.test_faces_people import GREY, RED, FakeFaces, photo, run_import
from tests.core.test_formats import _tiff


def _failed(lib: Library, queue: str) -> int:
    return next(q.failed for q in lib.jobs.status() if q.name == queue)


def test_a_photo_without_preview_fails_once_and_is_not_queued_again(
    library: Library, tmp_path: Path
) -> None:
    src = tmp_path / "card"
    photo(src / "portrait.jpg", RED, GREY)
    raw = src / "IMG_0001.CR2"
    raw.write_bytes(_tiff(make="Canon"))  # a RAW header without any image: no preview, ever
    faces = FakeFaces()
    library.attach_ml(Models(faces=faces))
    run_import(library, src)
    assert _failed(library, "faces") == 1
    (failure,) = [j for j in library.jobs.failures() if j.kind == "faces"]
    assert "no preview" in (failure.last_error or "")  # the reason, said once

    for _ in range(3):  # every start of the app or the daemon
        again = library.jobs.run(library.jobs.enqueue("ml.catch-up"))
        assert again.result == {"queued": {"faces": 0}}
        assert library.jobs.run_until_idle(timeout=300)
    assert _failed(library, "faces") == 1  # was 1, then 2, 3, 4...
    assert faces.calls == 1

    # The user asks: it is tried again (and fails again, once).
    assert library.queue_missing("faces", retry_failed=True) == 1
    assert library.jobs.run_until_idle(timeout=300)
    assert library.jobs.run(library.jobs.enqueue("ml.catch-up")).result == {"queued": {"faces": 0}}

    # It changes (the file is replaced by a real photo): the catch-up analyses it.
    photo(tmp_path / "new.jpg", GREY, RED)
    os.replace(tmp_path / "new.jpg", raw)
    run_import(library, src)
    assert library.jobs.run_until_idle(timeout=300)
    assert faces.calls == 2
    assert library.jobs.run(library.jobs.enqueue("ml.catch-up")).result == {"queued": {"faces": 0}}
