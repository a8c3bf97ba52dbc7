"""The desktop entry point: it starts the background work and, with models, the ML catch-up.

``run()`` owns a whole application run (its window stays until the process ends), so each test
drives it in a process of its own, as the ``photodesk`` command does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select
from photodesk.core import Library
from photodesk.core.catalog.db.schema import Job
from photodesk.core.inference.models import Models
from photodesk.ui import app as app_module
from tests.core.test_faces_people import FakeFaces, photo, run_import

root = Path(sys.argv[1])
photo(root / "in" / "red.jpg", (220, 30, 30), (128, 128, 128))
lib = Library.open(root / "lib")
run_import(lib, root / "in")  # before any model
faces = FakeFaces()
lib.attach_ml(Models(faces=faces))
app_module.ML_CATCH_UP_DELAY_MS = 10
qapp = QApplication([])

def done():
    with lib.read() as s:
        kinds = set(s.scalars(select(Job.kind).where(Job.state == "done")))
    return {"ml.catch-up", "faces"} <= kinds

def quit_when_done():
    if done():
        qapp.quit()
    else:
        QTimer.singleShot(50, quit_when_done)

QTimer.singleShot(50, quit_when_done)
QTimer.singleShot(60000, qapp.quit)
rc = app_module.run(lib)
print(json.dumps({"rc": rc, "done": done(), "calls": faces.calls}))
"""


def test_the_app_catches_up_on_photos_the_models_have_not_seen(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"rc": 0, "done": True, "calls": 1}
