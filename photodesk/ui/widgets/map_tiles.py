"""Optional online XYZ tile layer for the map: fetched on worker threads, cached on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

import photodesk

log = logging.getLogger(__name__)

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = "© OpenStreetMap contributors"
USER_AGENT = f"photodesk/{photodesk.__version__} (desktop photo manager)"
MEMORY_TILES = 384

Fetcher = Callable[[str], bytes]
TileKey = tuple[int, int, int]  # zoom, x, y


def fetch_url(url: str) -> bytes:
    """Download one tile (called on a worker thread only)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read()  # type: ignore[no-any-return]


def tile_url(template: str, zoom: int, x: int, y: int) -> str:
    return (
        template.replace("{z}", str(zoom))
        .replace("{x}", str(x))
        .replace("{y}", str(y))
        .replace("{s}", "abc"[(x + y) % 3])
    )


class TileCache:
    """Tiles on disk as ``<root>/<hash of the URL template>/<z>/<x>/<y>.tile``."""

    def __init__(self, root: Path, template: str) -> None:
        digest = hashlib.sha1(template.encode("utf-8")).hexdigest()[:12]
        self.root = Path(root) / digest
        self.template = template

    def path(self, zoom: int, x: int, y: int) -> Path:
        return self.root / str(zoom) / str(x) / f"{y}.tile"

    def load(self, zoom: int, x: int, y: int, fetch: Fetcher) -> bytes:
        """The tile's bytes: from disk, else fetched and written there first (worker thread)."""
        path = self.path(zoom, x, y)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = fetch(tile_url(self.template, zoom, x, y))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return data


class _Relay(QObject):
    loaded = Signal(object, object)  # key, QImage or None


class _TileTask(QRunnable):
    def __init__(self, cache: TileCache, key: TileKey, fetch: Fetcher, relay: _Relay) -> None:
        super().__init__()
        self._cache, self._key, self._fetch, self._relay = cache, key, fetch, relay

    def run(self) -> None:
        image: QImage | None = None
        try:
            image = QImage.fromData(self._cache.load(*self._key, self._fetch))
            if image.isNull():
                image = None
        except Exception as exc:  # offline, HTTP error, bad image: the basemap stays visible
            log.info("map tile %s failed: %s", self._key, exc)
        try:
            self._relay.loaded.emit(self._key, image)
        except RuntimeError:  # the layer went away meanwhile
            pass


class TileLayer(QObject):
    """Tiles for the canvas: ``tile(z, x, y)`` returns one now or asks for it in the background.

    ``changed`` fires on the GUI thread when a requested tile arrives.
    """

    changed = Signal()

    def __init__(
        self,
        cache_root: Path,
        template: str = DEFAULT_TILE_URL,
        fetch: Fetcher = fetch_url,
        parent: QObject | None = None,
        attribution: str = DEFAULT_ATTRIBUTION,
    ) -> None:
        super().__init__(parent)
        self.cache = TileCache(cache_root, template)
        self.attribution = attribution
        self._fetch = fetch
        self._images: OrderedDict[TileKey, QImage] = OrderedDict()
        self._pending: set[TileKey] = set()
        self._failed: set[TileKey] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(4)
        self._relay = _Relay(self)
        self._relay.loaded.connect(self._on_loaded)

    @property
    def template(self) -> str:
        return self.cache.template

    def tile(self, zoom: int, x: int, y: int) -> QImage | None:
        key = (zoom, x, y)
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
            return image
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._pool.start(_TileTask(self.cache, key, self._fetch, self._relay))
        return None

    def cancel_pending(self) -> None:
        """Forget queued requests (not yet started) that are no longer on screen."""
        self._pool.clear()
        self._pending.clear()

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, key: TileKey, image: QImage | None) -> None:
        self._pending.discard(key)
        if image is None:
            self._failed.add(key)
            return
        self._images[key] = image
        while len(self._images) > MEMORY_TILES:
            self._images.popitem(last=False)
        self.changed.emit()
