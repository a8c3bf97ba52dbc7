"""Plain data of the sync protocol: field values with clocks, asset states, mutations, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A field's value and the clock of its last write: (value, hlc); "" is "never edited".
Versioned = tuple[Any, str]


@dataclass(frozen=True)
class AssetState:
    """One asset as the feed carries it: what it is, and every synced field with its clock."""

    remote_id: int
    checksum: str
    info: dict[str, Any]  # kind, file_type, size, dimensions, camera, place... (never edited)
    fields: dict[str, Versioned]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.remote_id,
            "checksum": self.checksum,
            "info": self.info,
            "fields": self.fields,  # (value, clock) pairs are JSON arrays
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AssetState:
        fields = {str(k): (v[0], str(v[1])) for k, v in dict(data["fields"]).items()}
        return cls(int(data["id"]), str(data["checksum"]), dict(data.get("info") or {}), fields)


@dataclass(frozen=True)
class FeedPage:
    items: tuple[AssetState, ...]
    cursor: int  # the change sequence this page reaches; pass it back for the next page
    head: int  # the newest change sequence of the account when the page was read
    more: bool
    after: int | None = None  # a snapshot page: the snapshot goes on after this asset id
    resync: bool = False  # the device's cursor was trimmed: this starts a fresh snapshot
    snapshot: tuple[int, int] | None = None  # a snapshot page: (assets sent so far, of total)
    # the newest change of the other feeds ("people", "embeddings"): fetch them only if moved
    heads: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedAlbumState:
    """An album someone else shared with the account, whole: its photos with their owner's
    scalar fields (never the owner's own tags or albums); or (role ``owner``) an album of the
    account's own that holds photos of others, with those photos only."""

    remote_id: int
    name: str
    description: str
    owner_email: str
    owner_name: str
    role: str  # viewer | editor | owner (an own album holding others' photos: those only)
    assets: tuple[AssetState, ...]
    # members owned by someone other than the album's owner (an editor added them):
    # (server asset id, owner e-mail, owner name)
    others: tuple[tuple[int, str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.remote_id,
            "name": self.name,
            "description": self.description,
            "owner": {"email": self.owner_email, "name": self.owner_name},
            "role": self.role,
            "assets": [a.as_json() for a in self.assets],
            "others": [{"id": i, "email": e, "name": n} for i, e, n in self.others],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SharedAlbumState:
        owner = dict(data.get("owner") or {})
        return cls(
            int(data["id"]),
            str(data["name"]),
            str(data.get("description") or ""),
            str(owner["email"]),
            str(owner.get("name") or ""),
            str(data["role"]),
            tuple(AssetState.from_json(a) for a in data.get("assets") or []),
            tuple(
                (int(o["id"]), str(o["email"]), str(o.get("name") or ""))
                for o in data.get("others") or []
            ),
        )


@dataclass(frozen=True)
class PeopleItem:
    """A person or a face as the people feed carries it (docs/sync.md, "People").

    ``uid`` names it on every side. A person's fields: name, hidden, merged (the uid it was
    merged into), gone. A face's: person (uid or null), by_user, gone, ``reject:<person uid>``;
    its ``info`` (asset checksum, box, score, landmarks, model, base64 embedding) never changes.
    """

    kind: str  # person | face
    uid: str
    info: dict[str, Any]
    fields: dict[str, Versioned]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uid": self.uid,
            "info": self.info,
            "fields": {k: [v[0], v[1]] for k, v in self.fields.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> PeopleItem:
        if not isinstance(data, dict) or data.get("kind") not in ("person", "face"):
            raise ValueError("a people item is an object with kind person or face")
        uid = data.get("uid")
        if not isinstance(uid, str) or not 0 < len(uid) <= 80:
            raise ValueError("a people item needs a uid of 1 to 80 characters")
        raw = data.get("fields") or {}
        if not isinstance(raw, dict):
            raise ValueError("fields is an object")
        fields: dict[str, Versioned] = {}
        for k, v in raw.items():
            if not isinstance(v, list) or len(v) != 2 or not isinstance(v[1], str):
                raise ValueError(f"field {str(k)[:40]!r} is [value, clock]")
            fields[str(k)] = (v[0], v[1])
        info = data.get("info") or {}
        if not isinstance(info, dict):
            raise ValueError("info is an object")
        return cls(str(data["kind"]), uid, info, fields)


@dataclass(frozen=True)
class PeoplePage:
    items: tuple[PeopleItem, ...]
    cursor: int
    head: int
    more: bool


@dataclass(frozen=True)
class VectorItem:
    """A CLIP embedding of an asset (named by checksum) for one model."""

    checksum: str
    model: str
    vector: bytes  # float32 little-endian

    def as_json(self) -> dict[str, Any]:
        import base64

        return {
            "checksum": self.checksum,
            "model": self.model,
            "vector": base64.b64encode(self.vector).decode(),
        }

    @classmethod
    def from_json(cls, data: Any) -> VectorItem:
        import base64
        import binascii

        if not isinstance(data, dict):
            raise ValueError("an embedding is an object")
        try:
            vector = base64.b64decode(str(data["vector"]), validate=True)
            checksum, model = str(data["checksum"]), str(data["model"])
        except KeyError as exc:
            raise ValueError(f"an embedding needs {exc.args[0]!r}") from None
        except binascii.Error:
            raise ValueError("an embedding's vector is base64") from None
        if not vector or len(vector) % 4 or not 0 < len(model) <= 100:
            raise ValueError("an embedding is float32 values of a named model")
        return cls(checksum, model, vector)


@dataclass(frozen=True)
class VectorPage:
    items: tuple[VectorItem, ...]
    cursor: int  # the server's row position this page reaches
    more: bool


@dataclass(frozen=True)
class Mutation:
    """A write to one field of one asset (named by checksum), as a device pushes it."""

    id: str  # unique per device and change: a replay is recognised and skipped
    checksum: str
    field: str
    value: Any
    hlc: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "checksum": self.checksum,
            "field": self.field,
            "value": self.value,
            "hlc": self.hlc,
        }

    @classmethod
    def from_json(cls, data: Any) -> Mutation:
        if not isinstance(data, dict):
            raise ValueError("a mutation is an object")
        try:
            return cls(
                str(data["id"]),
                str(data["checksum"]),
                str(data["field"]),
                data.get("value"),
                str(data["hlc"]),
            )
        except KeyError as exc:
            raise ValueError(f"a mutation needs {exc.args[0]!r}") from None


@dataclass(frozen=True)
class Decision:
    """A conflict the merge decided: both sides wrote ``field``; ``winner`` is kept."""

    checksum: str
    field: str
    winner: str  # "local" | "remote"
    kept: Any
    dropped: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "checksum": self.checksum,
            "field": self.field,
            "winner": self.winner,
            "kept": self.kept,
            "dropped": self.dropped,
        }


@dataclass(frozen=True)
class PushResult:
    applied: int
    skipped: int  # replays and writes older than the server's
    conflicts: tuple[Decision, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncReport:
    """One round of ``photodesk sync``."""

    pulled: int = 0
    pushed: int = 0
    uploaded: int = 0
    thumbnails: int = 0
    conflicts: tuple[Decision, ...] = ()
    errors: tuple[str, ...] = ()
    people: int = 0  # people and faces received or sent
    embeddings: int = 0  # CLIP embeddings received or sent
    originals: int = 0  # fetched to keep offline (settings)
    previews: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "pulled": self.pulled,
            "pushed": self.pushed,
            "uploaded": self.uploaded,
            "thumbnails": self.thumbnails,
            "people": self.people,
            "embeddings": self.embeddings,
            "originals": self.originals,
            "previews": self.previews,
            "conflicts": [c.as_json() for c in self.conflicts],
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class RemoteAccount:
    """Who the device key signs in as."""

    user_id: int
    email: str
    name: str


@dataclass(frozen=True)
class Pairing:
    """The server this library is paired with (stored in the catalog; the key never is)."""

    url: str
    user_id: int
    email: str
    name: str
    device: str
    device_id: str
    paired_at: str
    last_sync: str | None = None
    last_error: str | None = None
    cursor: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncState:
    """What the desktop shows about its server: synced, syncing, offline or error."""

    state: str  # synced | syncing | pending | offline | error
    server: str
    account: str
    last_sync: str | None
    pending: int
    error: str | None
    progress: SyncProgress | None = None

    def text(self) -> str:
        if self.state == "syncing":
            return f"Syncing {self.progress.text()}" if self.progress else "Syncing…"
        if self.state == "offline":
            return f"Offline ({self.pending} to send)" if self.pending else "Offline"
        if self.state == "error":
            return f"Sync error: {self.error}"
        if self.state == "pending":
            return f"{self.pending} to sync"
        when = (self.last_sync or "")[11:16]
        return f"Synced {when}" if when else "Synced"


@dataclass(frozen=True)
class SyncProgress:
    """Where a running round is: its step, n of m, rate and time left."""

    step: str  # pull | thumbnails | upload | push | previews | originals
    done: int
    total: int
    rate: float  # items per second in this step
    eta_s: float | None

    def text(self) -> str:
        out = f"{self.step} {self.done} of {self.total}"
        if self.rate > 0:
            out += f" ({self.rate:.0f}/s"
            if self.eta_s is not None and self.eta_s >= 1:
                out += f", {_duration(self.eta_s)} left"
            out += ")"
        return out


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
