"""The desktop entry point: it starts the background work and, with models, the ML catch-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from photodesk.core import Library
from photodesk.core.db.schema import Job
from photodesk.core.ml_models import Models
from photodesk.ui import app as app_module
from tests.core.test_faces_people import FakeFaces, photo, run_import


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


def test_the_app_catches_up_on_photos_the_models_have_not_seen(
    qtbot, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo(tmp_path / "in" / "red.jpg", (220, 30, 30), (128, 128, 128))
    run_import(library, tmp_path / "in")  # before any model
    faces = FakeFaces()
    library.attach_ml(Models(faces=faces))
    monkeypatch.setattr(app_module, "ML_CATCH_UP_DELAY_MS", 10)
    qapp = QApplication.instance()
    assert qapp is not None

    def done() -> bool:
        with library.read() as s:
            kinds = set(s.scalars(select(Job.kind).where(Job.state == "done")))
        return {"ml.catch-up", "faces"} <= kinds

    def quit_when_done() -> None:
        if done():
            qapp.quit()
        else:
            QTimer.singleShot(50, quit_when_done)

    QTimer.singleShot(50, quit_when_done)
    QTimer.singleShot(30000, qapp.quit)  # never hang the suite
    assert app_module.run(library) == 0
    assert done()
    assert faces.calls == 1
