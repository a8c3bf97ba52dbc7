"""The job kinds and queues, by name: the one place a job's name is spelled.

Values are plain strings (``StrEnum``): they are what the catalog stores and what ``photodesk
jobs`` shows, so ``JobName.THUMBNAILS == "thumbnails.generate"``.
"""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    """A named queue, worked by its own threads (see ``CONCURRENCY``)."""

    IMPORT = "import"
    METADATA = "metadata"
    THUMBNAILS = "thumbnails"
    CLIP = "clip"
    FACES = "faces"
    CLUSTER = "cluster"
    MAINTENANCE = "maintenance"
    SYNC = "sync"  # rounds with a paired server (photodesk.core.sync)
    ASSIST = "assist"  # the desktop working the paired server's ML jobs (when the user allows)


class JobName(StrEnum):
    """A kind of job; its handler is registered in ``photodesk.core.handlers``."""

    IMPORT = "import"
    METADATA_REFRESH = "metadata.refresh"
    THUMBNAILS = "thumbnails.generate"
    THUMBNAILS_LAYOUT = "thumbnails.layout"  # move an older library's files to ab/<checksum>
    UPLOAD_ANALYSIS = "upload.analyse"  # an admitted upload: metadata, derivatives, placement
    BACKUP = "maintenance.backup"
    CLIP = "clip"
    FACES = "faces"
    FACES_CLUSTER = "faces.cluster"
    ML_CATCH_UP = "ml.catch-up"
    XMP_WRITE = "xmp.write"
    XMP_READ = "xmp.read"
    SYNC_ROUND = "sync.round"
    ASSIST_SERVER = "assist.server"


# Threads per queue. The import queue runs one job at a time; each import uses every core itself.
CONCURRENCY: dict[str, int] = {
    Queue.IMPORT: 1,
    Queue.METADATA: 2,
    Queue.THUMBNAILS: 2,
    Queue.CLIP: 1,
    Queue.FACES: 1,
    Queue.CLUSTER: 1,
    Queue.MAINTENANCE: 1,
    Queue.SYNC: 1,
    Queue.ASSIST: 1,
}
