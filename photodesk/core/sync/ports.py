"""The port through which a desktop library talks to its server; photodesk.remote implements it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from photodesk.core.sync.types import (
    FeedPage,
    Mutation,
    PeopleItem,
    PeoplePage,
    PushResult,
    RemoteAccount,
    SharedAlbumState,
    VectorItem,
    VectorPage,
)


class RemoteUnavailable(Exception):
    """The server cannot be reached (offline, down): nothing is lost, changes stay queued."""


class RemoteRefused(Exception):
    """The server answered no: revoked key (``auth``), full quota (``quota``), bad request."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Remote(Protocol):
    def account(self) -> RemoteAccount: ...

    def changes(
        self,
        cursor: int,
        limit: int,
        wait: int = 0,
        *,
        after: int | None = None,
        device: str | None = None,
        known: dict[str, int] | None = None,
    ) -> FeedPage:
        """A page of the feed; ``wait`` seconds: answer once there is something (long poll),
        also in the people feed or the shared albums when ``known`` says what this library has
        of them (``people``: cursor, ``shared``: version); ``after``: the next page of a
        snapshot; ``device``: this library's node id (the server notes how far it has read)."""
        ...

    def push(self, mutations: list[Mutation]) -> PushResult: ...

    def upload(self, path: Path, checksum: str) -> int:
        """Upload an original (or find it there by checksum); the server's asset id."""
        ...

    def thumbnails(self, remote_ids: list[int]) -> dict[int, bytes]:
        """The server's thumbnails of these assets (an asset without one is left out)."""
        ...

    def original(self, remote_id: int, dest: Path, checksum: str | None = None) -> None:
        """Download the original to ``dest`` (written whole or not at all, SHA-1 checked)."""
        ...

    def preview(self, remote_id: int) -> bytes | None:
        """The server's preview (JPEG) of an asset; None if it has none."""
        ...

    def people(self, cursor: int, limit: int) -> PeoplePage:
        """A page of the account's people feed (people and faces written after ``cursor``)."""
        ...

    def push_people(self, items: list[PeopleItem]) -> PushResult: ...

    def embeddings(self, after: int, limit: int) -> VectorPage:
        """A page of the account's CLIP embeddings written after the server's row ``after``."""
        ...

    def push_embeddings(self, items: list[VectorItem]) -> PushResult: ...

    def shared(self) -> tuple[list[SharedAlbumState], int]:
        """Every album others shared with the account, whole, and the version of that answer."""
        ...

    def edit_shared(self, album_id: int, add: list[int], remove: list[int]) -> None:
        """Add the account's own photos to a server album it owns or edits, and remove photos
        from it (server ids; the server's album rules decide: RemoteRefused for a viewer)."""
        ...
