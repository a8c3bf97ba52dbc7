"""The catalog's tables as SQLAlchemy 2.0 typed ORM models (portable to PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Byte counts and nanosecond times outgrow PostgreSQL's 32-bit INTEGER (SQLite's is 64-bit already).
BigInt = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    quota_bytes: Mapped[int | None] = mapped_column(BigInt)
    storage_label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RemoteWorker(Base):
    """A machine allowed to take ML jobs over HTTP (``photodesk worker``): its token's SHA-256."""

    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiKey(Base):
    """A user's API key: only its SHA-256 is stored (keys are random, so no slow hash is needed)."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the start of the key, to tell keys apart
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserSession(Base):
    """A login session (cookie or bearer token); only the token's SHA-256 is stored."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class Place(Base):
    """A reverse-geocoded place (nearest populated place, offline)."""

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("city", "admin1", "admin2", "country_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(200), default="")
    admin1: Mapped[str] = mapped_column(String(200), default="")
    admin2: Mapped[str] = mapped_column(String(200), default="")
    country_code: Mapped[str] = mapped_column(String(2), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Stack(Base):
    """Assets shown as one tile (RAW + JPEG, bursts); the primary one is on top."""

    __tablename__ = "stacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    primary_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL", use_alter=True)
    )


class Asset(Base):
    """One photo or video as the user sees it; its files live in AssetFile."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("owner_id", "checksum"),
        Index("ix_assets_owner_taken", "owner_id", "taken_at", "id"),
        Index("ix_assets_owner_month", "owner_id", "taken_month"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    checksum: Mapped[str] = mapped_column(String(40))  # SHA-1 hex of the primary file's content
    kind: Mapped[str] = mapped_column(String(10))  # photo | raw | video
    file_type: Mapped[str] = mapped_column(String(16))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInt)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    orientation: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)  # local wall-clock time
    taken_offset: Mapped[int | None] = mapped_column(Integer)  # minutes east of UTC
    taken_at_source: Mapped[str | None] = mapped_column(String(40))
    taken_month: Mapped[int | None] = mapped_column(Integer)  # YYYYMM, for timeline buckets
    make: Mapped[str | None] = mapped_column(String(100), index=True)
    model: Mapped[str | None] = mapped_column(String(100))
    lens: Mapped[str | None] = mapped_column(String(200))
    iso: Mapped[int | None] = mapped_column(Integer)
    f_number: Mapped[float | None] = mapped_column(Float)
    exposure_time: Mapped[float | None] = mapped_column(Float)
    focal_length: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    altitude: Mapped[float | None] = mapped_column(Float)
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("places.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int] = mapped_column(Integer, default=0)
    favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    trashed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    has_thumbnail: Mapped[bool] = mapped_column(Boolean, default=False)
    phash: Mapped[int | None] = mapped_column(BigInteger)  # perceptual hash of the thumbnail
    sharpness: Mapped[float | None] = mapped_column(Float)  # of the thumbnail (burst order)
    stack_id: Mapped[int | None] = mapped_column(
        ForeignKey("stacks.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # XMP write-back (migration 0009): the last sidecar write, and the sync state
    # {"synced": {field: value both sides agreed on}, "edited": {field: ISO time edited here}}
    xmp_written_at: Mapped[datetime | None] = mapped_column(DateTime)
    xmp_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    files: Mapped[list[AssetFile]] = relationship(
        back_populates="asset", lazy="raise_on_sql", cascade="all, delete-orphan"
    )


class AssetFile(Base):
    """A file on disk that belongs to an asset: the original, an XMP sidecar, a Live Photo video."""

    __tablename__ = "asset_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # original sidecar live_video duplicate source
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(BigInt)
    mtime_ns: Mapped[int] = mapped_column(BigInt)
    checksum: Mapped[str | None] = mapped_column(String(40), index=True)
    copied: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # lives in the library's originals/
    missing: Mapped[bool] = mapped_column(Boolean, default=False)

    asset: Mapped[Asset] = relationship(back_populates="files", lazy="raise_on_sql")


class Tag(Base):
    """A node of the hierarchical tag tree; ``path`` is the full path (Places/France/Paris)."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("owner_id", "path"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)


class AssetTag(Base):
    __tablename__ = "asset_tags"
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Album(Base):
    __tablename__ = "albums"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    cover_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    sort_order: Mapped[str] = mapped_column(String(10), default="asc")  # by capture time
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AlbumAsset(Base):
    __tablename__ = "album_assets"
    album_id: Mapped[int] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(DateTime)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[datetime | None] = mapped_column(DateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_face_id: Mapped[int | None] = mapped_column(
        ForeignKey("faces.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Face(Base):
    """A detected face: box and landmarks relative to the upright image, embedding, person."""

    __tablename__ = "faces"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    landmarks: Mapped[list[float] | None] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(100), default="")
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 little-endian
    assigned_by_user: Mapped[bool] = mapped_column(Boolean, default=False)


class FaceRejection(Base):
    """ "This face is not that person": a user's decision that clustering must respect."""

    __tablename__ = "face_rejections"
    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Embedding(Base):
    """A CLIP embedding of an asset for one model (float32 blob; sqlite-vec indexes it)."""

    __tablename__ = "embeddings"
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class AssetAnalysis(Base):
    """That an ML task (``faces``) ran on an asset with a model, found or not (migration 0004)."""

    __tablename__ = "asset_analysis"
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    task: Mapped[str] = mapped_column(String(20), primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    found: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime] = mapped_column(DateTime)


class ImportError_(Base):
    """A file that could not be imported, with the reason shown to the user."""

    __tablename__ = "import_errors"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text, unique=True)
    error: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInt)
    mtime_ns: Mapped[int | None] = mapped_column(BigInt)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WatchedFolder(Base):
    __tablename__ = "watched_folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text, unique=True)
    copy: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    polling: Mapped[bool | None] = mapped_column(Boolean)  # None: decide automatically
    last_scan_at: Mapped[datetime | None] = mapped_column(DateTime)
    # An inbox: new files are copied in as uploads of ``owner_id`` (any account), not referenced.
    inbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    delete_after_import: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class DavEntry(Base):
    """One name in an account's WebDAV space: a folder, an imported asset, or a small plain file."""

    __tablename__ = "dav_entries"
    __table_args__ = (UniqueConstraint("owner_id", "path"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)  # "DCIM/Camera/IMG_1.jpg": no leading slash
    is_dir: Mapped[bool] = mapped_column(Boolean, default=False)
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    blob: Mapped[str | None] = mapped_column(String(64))  # a plain file's name in dav/<owner>/
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha1: Mapped[str | None] = mapped_column(String(40))
    content_type: Mapped[str | None] = mapped_column(String(200))
    modified_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    props: Mapped[dict[str, str] | None] = mapped_column(JSON)  # dead properties: "{ns}name" -> XML


class Job(Base):
    """A persisted unit of background work, claimed atomically by a worker."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "queue", "state", "not_before", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # queued | running | done | failed | cancelled
    state: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    not_before: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)  # a stale one: its worker died
    worker: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)


class Setting(Base):
    """Small key/value settings stored with the catalog."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


class UserTotp(Base):
    """A user's TOTP second factor; ``enabled`` once confirmed with a code from the app."""

    __tablename__ = "user_totp"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_step: Mapped[int | None] = mapped_column(Integer)  # the last accepted step (no replay)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserRecoveryCode(Base):
    """A single-use recovery code for two-factor sign-in; only its SHA-256 is stored."""

    __tablename__ = "user_recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserIdentity(Base):
    """An identity at an OpenID provider (issuer + subject) that signs in as a user."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlbumShare(Base):
    """An album shared with another user, as viewer (sees it) or editor (adds and removes)."""

    __tablename__ = "album_shares"
    __table_args__ = (UniqueConstraint("album_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    album_id: Mapped[int] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # viewer | editor
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ShareLink(Base):
    """A public link to an album or a selection of photos; the key is the capability."""

    __tablename__ = "share_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    album_id: Mapped[int | None] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str | None] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_upload: Mapped[bool] = mapped_column(Boolean, default=False)
    show_metadata: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ShareLinkAsset(Base):
    """The photos of a link made for a selection rather than an album."""

    __tablename__ = "share_link_assets"
    link_id: Mapped[int] = mapped_column(
        ForeignKey("share_links.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


# The sync journal's tables (photodesk.core.sync) live in their own module; importing it here
# keeps every table on Base.metadata whoever imports the schema first.
from photodesk.core.catalog.db import pairing_codes, sync_log, sync_people_log  # noqa: E402, F401
