"""The status bar's sync state: hidden unpaired; pending, offline, error and synced when paired."""

from __future__ import annotations

from pathlib import Path

from photodesk.core import Library
from photodesk.ui.widgets.sync_status import SyncStatus
from tests.conftest import make_jpeg


def test_the_status_bar_shows_the_pairing_state(qtbot, library: Library, tmp_path: Path):
    widget = SyncStatus(library)
    qtbot.addWidget(widget)
    widget.show_state(library.sync.state())
    assert widget.isHidden()

    library.importer.import_paths([str(make_jpeg(tmp_path / "a.jpg", seed=1))])
    library.sync.pair("http://nas.local:2283", 7, "ann@example.org", "Ann", "laptop")
    widget.refresh()
    qtbot.waitUntil(lambda: widget.isVisible() or not widget.isHidden(), timeout=10000)
    qtbot.waitUntil(lambda: widget.text() == "1 to sync", timeout=10000)
    assert "ann@example.org on http://nas.local:2283" in widget.toolTip()

    library.sync.record(last_error="offline: http://nas.local:2283 cannot be reached")
    widget.refresh()
    qtbot.waitUntil(lambda: widget.text() == "Offline (1 to send)", timeout=10000)

    library.sync.record(last_error="auth: the server refused this device's key (revoked?)")
    widget.refresh()
    qtbot.waitUntil(lambda: widget.text().startswith("Sync error: auth:"), timeout=10000)

    library.sync.unpair()
    widget.refresh()
    qtbot.waitUntil(widget.isHidden, timeout=10000)
