"""Typed payloads of the built-in job kinds: what a job carries, read and written in one place.

A payload is stored as a JSON object; ``as_dict()`` writes it and ``of()`` reads one back
(unknown keys are ignored, so a job queued by an older version still runs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Self


@dataclass(frozen=True)
class Payload:
    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> Self:
        raw = raw or {}
        return cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})


@dataclass(frozen=True)
class ImportPayload(Payload):
    """``import``: files and folders to import, copied into the library or referenced."""

    paths: tuple[str, ...] | list[str] = ()
    copy: bool = False
    template: str | None = None
    album: str | None = None
    _workers: int | None = None  # tests and benches: worker processes (None: one per core)


@dataclass(frozen=True)
class AssetPayload(Payload):
    """``thumbnails.generate``, ``clip``, ``faces``: redo the work even if it is done."""

    force: bool = False


@dataclass(frozen=True)
class ClusterPayload(Payload):
    """``faces.cluster``: the detection round it was queued in; ``full`` re-clusters."""

    round: int | None = None
    full: bool = False
