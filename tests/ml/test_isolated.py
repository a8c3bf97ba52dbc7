"""The dlib analyzer in a worker process: same faces as in-process, and the caller's threads run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from photodesk.ml import faces_dlib
from photodesk.ml.errors import ImageReadError
from photodesk.ml.isolated import IsolatedDlibFaceAnalyzer

pytestmark = pytest.mark.skipif(
    faces_dlib.dlib_status() is not None, reason=str(faces_dlib.dlib_status())
)


def test_faces_come_from_a_worker_process_and_match_in_process(corpus: Path) -> None:
    photo = str(corpus / "facerec__two_people.jpg")
    here = faces_dlib.DlibFaceAnalyzer().analyze(photo)
    isolated = IsolatedDlibFaceAnalyzer(idle_seconds=None)
    try:
        pid = isolated.worker_pid()
        assert pid != os.getpid()  # dlib never holds this process's GIL
        there = isolated.analyze(photo)
        assert isolated.worker_pid() == pid  # one worker, kept while in use
    finally:
        isolated.close()
    assert len(there) == len(here) == 2
    pairs = zip(sorted(here, key=lambda f: f.box), sorted(there, key=lambda f: f.box), strict=True)
    for a, b in pairs:
        assert a.box == pytest.approx(b.box)
        assert np.allclose(a.embedding, b.embedding, atol=1e-5)
    assert isolated.model_name == faces_dlib.DlibFaceAnalyzer.model_name
    assert isolated.metric == "euclidean"


def test_an_unreadable_file_is_a_clear_error_and_the_worker_survives(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    isolated = IsolatedDlibFaceAnalyzer(idle_seconds=None)
    try:
        with pytest.raises(ImageReadError):
            isolated.analyze(str(bad))
        pid = isolated.worker_pid()
        isolated.close()
        assert isolated.worker_pid() != pid  # closing stops it; the next use starts a new one
    finally:
        isolated.close()
