"""Asset queries: filters to SQL, and rows joined with files, tags, albums, people and places."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import (
    Album,
    AlbumAsset,
    Asset,
    AssetFile,
    AssetTag,
    Face,
    Person,
    Place,
    Tag,
)
from photodesk.core.catalog.types import AssetId, AssetQuery, AssetRecord, UserId

CHUNK = 900  # below SQLite's bound-parameter limit
ASSETS = cast(Table, Asset.__table__)
T = TypeVar("T")


def _chunks(ids: Sequence[T]) -> Iterable[Sequence[T]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def id_values(s: Session, ids: Sequence[int]) -> Any:
    """A table of ``ids`` (column ``value``) bound as one parameter however many there are:
    SQLite's ``json_each`` of a JSON array, PostgreSQL's ``unnest`` of an integer array."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # loaded with the PostgreSQL engine

        array = literal([int(i) for i in ids], ARRAY(Integer))
        return func.unnest(array).table_valued("value").render_derived()
    return func.json_each(json.dumps([int(i) for i in ids])).table_valued("value")


def filtered(
    owner_id: int, q: AssetQuery, *, also: ColumnElement[bool] | None = None
) -> Select[Any]:
    """The ids of the owner's assets matching ``q`` (and of assets ``also`` lets in)."""
    mine = Asset.owner_id == owner_id
    stmt = select(Asset.id).where(mine if also is None else or_(mine, also))
    stmt = stmt.where(Asset.trashed_at.is_not(None) if q.trashed else Asset.trashed_at.is_(None))
    if q.archived is not None:
        stmt = stmt.where(Asset.archived == q.archived)
    if q.kind:
        stmt = stmt.where(Asset.kind == q.kind)
    if q.taken_from:
        stmt = stmt.where(Asset.taken_at >= q.taken_from)
    if q.taken_to:
        stmt = stmt.where(Asset.taken_at < q.taken_to)
    if q.favorite is not None:
        stmt = stmt.where(Asset.favorite == q.favorite)
    if q.min_rating:
        stmt = stmt.where(Asset.rating >= q.min_rating)
    if q.make:
        stmt = stmt.where(Asset.make.ilike(f"%{q.make}%"))
    if q.model:
        stmt = stmt.where(Asset.model.ilike(f"%{q.model}%"))
    if q.country or q.city:
        conds = []
        if q.country:
            conds.append(or_(Place.country_code.ilike(q.country), Place.country.ilike(q.country)))
        if q.city:
            conds.append(Place.city.ilike(q.city))
        stmt = stmt.where(exists().where(Place.id == Asset.place_id, *conds))
    if q.tag:
        path = q.tag.strip("/")
        stmt = stmt.where(
            exists().where(
                AssetTag.asset_id == Asset.id,
                Tag.id == AssetTag.tag_id,
                Tag.owner_id == owner_id,
                or_(Tag.path == path, Tag.path.startswith(path + "/", autoescape=True)),
            )
        )
    if q.album:
        stmt = stmt.where(
            exists().where(
                AlbumAsset.asset_id == Asset.id,
                Album.id == AlbumAsset.album_id,
                Album.owner_id == owner_id,
                Album.name == q.album,
            )
        )
    if q.path_prefix:
        stmt = stmt.where(
            exists().where(
                AssetFile.asset_id == Asset.id,
                AssetFile.path.startswith(q.path_prefix, autoescape=True),
            )
        )
    order = (
        (Asset.taken_at.desc(), Asset.id.desc())
        if q.newest_first
        else (Asset.taken_at.asc(), Asset.id.asc())
    )
    stmt = stmt.order_by(*order)
    if q.limit:
        stmt = stmt.limit(q.limit)
    return stmt


def records(session: Session, ids: Sequence[int]) -> list[AssetRecord]:
    """Full records for ``ids``, in the same order."""
    if not ids:
        return []
    assets: dict[int, tuple[Asset, Place | None]] = {}
    files: dict[int, list[tuple[str, str]]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    albums: dict[int, list[str]] = defaultdict(list)
    people: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for asset, found_place in session.execute(
            select(Asset, Place)
            .outerjoin(Place, Place.id == Asset.place_id)
            .where(Asset.id.in_(chunk))
        ):
            assets[asset.id] = (asset, found_place)
        for aid, path, role in session.execute(
            select(AssetFile.asset_id, AssetFile.path, AssetFile.role)
            .where(AssetFile.asset_id.in_(chunk), AssetFile.role != "source")
            .order_by(AssetFile.id)
        ):
            files[aid].append((role, path))
        for aid, path in session.execute(
            select(AssetTag.asset_id, Tag.path)
            .join(Tag, Tag.id == AssetTag.tag_id)
            .where(AssetTag.asset_id.in_(chunk))
            .order_by(Tag.path)
        ):
            tags[aid].append(path)
        for aid, name in session.execute(
            select(AlbumAsset.asset_id, Album.name)
            .join(Album, Album.id == AlbumAsset.album_id)
            .where(AlbumAsset.asset_id.in_(chunk))
            .order_by(Album.name)
        ):
            albums[aid].append(name)
        for aid, name in session.execute(
            select(Face.asset_id, Person.name)
            .join(Person, Person.id == Face.person_id)
            .where(and_(Face.asset_id.in_(chunk), Person.name != ""))
            .distinct()
            .order_by(Person.name)
        ):
            people[aid].append(name)
    out = []
    for aid in ids:
        if aid not in assets:
            continue
        a, place = assets[aid]
        fl = files[aid]
        primary = next((p for r, p in fl if r == "original"), fl[0][1] if fl else "")
        out.append(
            AssetRecord(
                id=AssetId(a.id),
                owner_id=UserId(a.owner_id),
                path=primary,
                files=tuple(p for _, p in fl),
                checksum=a.checksum,
                kind=a.kind,
                file_type=a.file_type,
                mime=a.mime,
                size=a.size,
                width=a.width,
                height=a.height,
                orientation=a.orientation,
                duration=a.duration,
                taken_at=a.taken_at,
                taken_offset=a.taken_offset,
                taken_at_source=a.taken_at_source,
                make=a.make,
                model=a.model,
                lens=a.lens,
                iso=a.iso,
                f_number=a.f_number,
                exposure_time=a.exposure_time,
                focal_length=a.focal_length,
                latitude=a.latitude,
                longitude=a.longitude,
                altitude=a.altitude,
                city=place.city or None if place else None,
                admin1=place.admin1 or None if place else None,
                admin2=place.admin2 or None if place else None,
                country=place.country_code or None if place else None,
                country_name=place.country or None if place else None,
                title=a.title,
                description=a.description,
                rating=a.rating,
                favorite=a.favorite,
                archived=a.archived,
                trashed_at=a.trashed_at,
                offline=a.offline,
                has_thumbnail=a.has_thumbnail,
                stack_id=a.stack_id,
                tags=tuple(tags[aid]),
                albums=tuple(albums[aid]),
                people=tuple(people[aid]),
                created_at=a.created_at,
                xmp_written_at=a.xmp_written_at,
            )
        )
    return out


@dataclass(frozen=True)
class Original:
    """An asset's original file, as job handlers need it to decode the asset."""

    asset_id: int
    checksum: str
    kind: str
    file_type: str
    orientation: int | None
    path: str


def originals(
    session: Session, ids: Sequence[int], owner_id: int | None = None, *, trashed: bool = True
) -> dict[int, Original]:
    """The originals of ``ids`` (of ``owner_id`` if given; not in the trash unless ``trashed``)."""
    stmt = (
        select(
            Asset.id,
            Asset.checksum,
            Asset.kind,
            Asset.file_type,
            Asset.orientation,
            AssetFile.path,
        )
        .join(AssetFile, AssetFile.asset_id == Asset.id)
        .where(Asset.id.in_(list(ids)), AssetFile.role == "original")
    )
    if owner_id is not None:
        stmt = stmt.where(Asset.owner_id == owner_id)
    if not trashed:
        stmt = stmt.where(Asset.trashed_at.is_(None))
    return {
        int(r[0]): Original(int(r[0]), r[1], r[2], r[3], r[4], r[5])
        for r in session.execute(stmt).all()
    }


def untrashed_ids(session: Session, owner_id: int) -> list[int]:
    """Every asset of ``owner_id`` not in the trash."""
    return list(
        session.scalars(
            select(Asset.id).where(Asset.owner_id == owner_id, Asset.trashed_at.is_(None))
        )
    )


def set_columns(s: Session, asset_id: int, values: dict[str, object]) -> None:
    """Update columns of one asset (``values``: column name -> value)."""
    s.execute(update(Asset).where(Asset.id == asset_id).values(**values))


def lacking_thumbnails(s: Session, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` without a thumbnail yet (RAW files have theirs from the import)."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            s.scalars(
                select(Asset.id).where(
                    Asset.id.in_(chunk), Asset.has_thumbnail.is_(False), Asset.kind != "raw"
                )
            )
        )
    return found


def by_checksum(s: Session, owner_id: int, checksums: Sequence[str]) -> dict[str, int]:
    """Checksum -> the owner's asset with that content, for those present. A Live Photo video
    absorbed by its still counts as present (as the still)."""
    found: dict[str, int] = {}
    for chunk in _chunks(checksums):
        rows = s.execute(
            select(Asset.checksum, Asset.id).where(
                Asset.owner_id == owner_id, Asset.checksum.in_(chunk)
            )
        )
        found.update((str(c), int(a)) for c, a in rows)
        rest = [c for c in chunk if c not in found]
        if rest:
            rows = s.execute(
                select(AssetFile.checksum, AssetFile.asset_id)
                .join(Asset, Asset.id == AssetFile.asset_id)
                .where(
                    Asset.owner_id == owner_id,
                    AssetFile.role == "live_video",
                    AssetFile.checksum.in_(rest),
                )
            )
            found.update((str(c), int(a)) for c, a in rows)
    return found


def asset_of_file(s: Session, path: str) -> int | None:
    """The asset a file (original, sidecar, Live Photo video...) belongs to, if any."""
    found = s.scalar(select(AssetFile.asset_id).where(AssetFile.path == path))
    return None if found is None else int(found)


def with_checksum(s: Session, owner_id: int, checksum: str) -> int | None:
    """The owner's asset with exactly this content, if any (Live Photo videos not counted)."""
    found = s.scalar(select(Asset.id).where(Asset.owner_id == owner_id, Asset.checksum == checksum))
    return None if found is None else int(found)


def row_with_checksum(s: Session, owner_id: int, checksum: str) -> Asset | None:
    """``with_checksum``'s row, for the import writer to change inside its transaction."""
    return s.scalars(
        select(Asset).where(Asset.owner_id == owner_id, Asset.checksum == checksum)
    ).first()


def row(s: Session, asset_id: int) -> Asset | None:
    """The asset's row, if it exists."""
    return s.get(Asset, asset_id)


def insert_row(s: Session, values: dict[str, Any]) -> int:
    """A new asset (``values``: every column it sets); its id. A Core insert: the ORM unit of
    work is several times slower in bulk, and an import inserts one per new file."""
    return int(s.execute(insert(ASSETS).returning(ASSETS.c.id), values).scalar_one())


def insert_unless_taken(
    s: Session, values: dict[str, Any], taken_by: Callable[[], int | None]
) -> tuple[int, bool]:
    """``insert_row`` in a savepoint; if the unique checksum refuses it (a twin upload won the
    race), ``taken_by()`` names the winner: (asset, False). (id, True) for a new row; an
    integrity error ``taken_by`` cannot explain is raised."""
    try:
        with s.begin_nested():
            return insert_row(s, values), True
    except IntegrityError:
        found = taken_by()
        if found is None:
            raise
        return found, False


def delete_with_files(s: Session, asset_id: int) -> None:
    """The asset's file rows, then its row (its album places and the rest go by cascade)."""
    s.execute(delete(AssetFile).where(AssetFile.asset_id == asset_id))
    s.execute(delete(Asset).where(Asset.id == asset_id))
