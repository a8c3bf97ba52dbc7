"""People service: list, name, merge, hide people; assign and reject faces; crop face thumbnails."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import people as people_repo
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import AssetId, FaceId, FaceRecord, PersonId, PersonSummary
from photodesk.core.organize.sidecars import note_edit
from photodesk.core.people.crops import Box, FaceCropStore

if TYPE_CHECKING:
    from photodesk.core.catalog.db.people import PersonRow
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.inference.models import MLModels
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.organize.assets import AssetService
    from photodesk.core.people.faces import ClusterReport

__all__ = ["FaceId", "FaceRecord", "PeopleService", "PersonId", "PersonSummary"]

FACES = ("faces",)  # the XMP face regions follow these edits (lib.xmp)


class PeopleService:
    """People and faces of the library's owner; every write publishes ``Changes(people=True)``."""

    def __init__(
        self,
        store: Store,
        assets: AssetService,
        thumbnails: ThumbnailStore,
        ml: MLModels,
        crops: FaceCropStore | None = None,
    ) -> None:
        self._store = store
        self._assets = assets
        self._thumbnails = thumbnails
        self._ml = ml
        self.crops = crops if crops is not None else FaceCropStore(store.thumbs_dir / "faces")

    # ----- reading ---------------------------------------------------------------------------
    def list(self, include_hidden: bool = False) -> list[PersonSummary]:
        """People with at least one face: named ones first by photo count, then unnamed clusters."""
        with self._store.read() as s:
            people = people_repo.summaries(s, self._store.owner_id, include_hidden)
        return sorted(people, key=lambda p: (not p.name, -p.photo_count, p.name.casefold(), p.id))

    def photos(self, person_id: int) -> builtins.list[AssetId]:
        """The person's photos (not trashed), newest first."""
        with self._store.read() as s:
            self._person(s, person_id)
            return [AssetId(i) for i in people_repo.photos(s, person_id)]

    def faces(
        self, *, person_id: int | None = None, asset_id: int | None = None
    ) -> builtins.list[FaceRecord]:
        """Faces of a person, of a photo, or both."""
        with self._store.read() as s:
            if person_id is not None:
                self._person(s, person_id)  # an unknown person is NotFound, not "no faces"
            return people_repo.faces(
                s, self._store.owner_id, person_id=person_id, asset_id=asset_id
            )

    def rejected(self, face_id: int) -> set[PersonId]:
        """The people this face was said not to be."""
        with self._store.read() as s:
            return {PersonId(i) for i in people_repo.rejected_people(s, face_id)}

    # ----- people ----------------------------------------------------------------------------
    def create(self, name: str = "", *, hidden: bool = False) -> PersonId:
        with self._store.write(Changes(people=True)) as s:
            owner = self._store.owner_id
            return PersonId(people_repo.add_person(s, owner, name.strip(), hidden, datetime.now()))

    def rename(self, person_id: int, name: str) -> None:
        """Name a person ("" makes it an unnamed cluster again).

        Raises:
            Conflict: another person has this name already (the caller may offer a merge).
        """
        name = name.strip()
        changes = self._changes(people=[person_id])
        with self._store.write(changes) as s:
            person = self._person(s, person_id)
            if name and self._named(s, name) not in (None, person.id):
                raise Conflict(f"another person is named {name!r}")
            if person.name != name:
                note_edit(s, changes.assets, FACES)
            people_repo.set_person(s, person.id, name=name)

    def find(self, name: str) -> PersonId | None:
        """The person with this name (case-insensitive), if any."""
        with self._store.read() as s:
            found = self._named(s, name.strip())
        return PersonId(found) if found is not None else None

    def hide(self, person_id: int, hidden: bool = True) -> None:
        with self._store.write(Changes(people=True)) as s:
            people_repo.set_person(s, self._person(s, person_id).id, hidden=hidden)

    def set_cover(self, person_id: int, face_id: int) -> None:
        with self._store.write(Changes(people=True)) as s:
            person = self._person(s, person_id)
            if self._face(s, face_id).person_id != person.id:
                raise InvalidInput(f"face {face_id} is not one of this person's faces")
            people_repo.set_cover(s, person.id, face_id)

    def merge(self, source_id: int, into_id: int) -> int:
        """Move every face of ``source_id`` to ``into_id`` and delete ``source_id``.

        A photo where both have a face would end up with two faces of one person: that face of
        the source stays unassigned instead. Returns how many faces moved. The moved faces count
        as assigned by the user (a re-cluster keeps them), and the source's rejections carry over.
        """
        if source_id == into_id:
            raise InvalidInput("a person cannot be merged into itself")
        changes = self._changes(people=[source_id, into_id])
        with self._store.write(changes) as s:
            source, into = self._person(s, source_id), self._person(s, into_id)
            note_edit(s, changes.assets, FACES)
            taken = people_repo.person_asset_ids(s, into.id)
            refused = people_repo.rejected_faces(s, into.id)
            moved = 0
            for face in people_repo.person_faces(s, source.id):
                if face.asset_id in taken or face.id in refused:
                    people_repo.set_face(s, face.id, None, False)
                else:
                    people_repo.set_face(s, face.id, into.id, True)
                    taken.add(face.asset_id)
                    moved += 1
            carried = people_repo.rejected_faces(s, source.id) - refused
            people_repo.add_rejections(s, [(fid, into.id) for fid in carried], datetime.now())
            if not into.name and source.name:
                people_repo.set_person(s, into.id, name=source.name)
            if into.cover_face_id is None:
                people_repo.set_cover(s, into.id, source.cover_face_id)
            people_repo.delete_person(s, source.id)
            return moved

    # ----- clustering ------------------------------------------------------------------------
    def cluster(self) -> ClusterReport:
        """Give the faces without a person one (Immich-like incremental DBSCAN; the ``faces``
        job queues this after each photo)."""
        from photodesk.core.people import faces

        return faces.cluster(self._store, self._ml.faces_if_attached())

    def recluster(self) -> ClusterReport:
        """Cluster again from scratch; names, merges, hidden people, faces placed by hand and
        "not this person" decisions all survive (see ``core.faces.recluster``)."""
        from photodesk.core.people import faces

        return faces.recluster(self._store, self._ml.faces_if_attached())

    # ----- faces -----------------------------------------------------------------------------
    def add_face(
        self,
        asset_id: int,
        box: Sequence[float],
        person_id: int | None = None,
        embedding: Sequence[float] | bytes | None = None,
        *,
        score: float = 0.0,
        landmarks: Sequence[float] | None = None,
        model: str = "",
        by_user: bool = False,
    ) -> FaceId:
        """Store a face found on ``asset_id`` (box x1, y1, x2, y2 relative to the upright image).

        Raises:
            Conflict: ``person_id`` already has a face on this photo.
        """
        x1, y1, x2, y2 = (float(v) for v in box)
        if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
            raise InvalidInput(f"a face box is x1 < x2 and y1 < y2 within 0-1, not {box}")
        self._assets.owned([asset_id])
        with self._store.write(Changes(people=True, assets=frozenset({int(asset_id)}))) as s:
            if person_id is not None:
                self._person(s, person_id)
                self._check_free(s, person_id, asset_id)
            face_id = people_repo.add_face(
                s,
                asset_id=asset_id,
                person_id=person_id,
                box=(x1, y1, x2, y2),
                score=score,
                landmarks=[float(v) for v in landmarks] if landmarks is not None else None,
                model=model,
                embedding=_embedding_bytes(embedding),
                assigned_by_user=by_user and person_id is not None,
            )
            if person_id is not None:
                note_edit(s, [int(asset_id)], FACES)
            return FaceId(face_id)

    def assign_face(self, face_id: int, person_id: int | None, *, by_user: bool = True) -> None:
        """Put a face into a person (or none). By hand, this also lifts an earlier rejection.

        Raises:
            Conflict: the person has another face on this photo; or, for the machine
                (``by_user=False``), the user rejected this person for this face, or placed
                the face by hand.
        """
        with self._store.write(self._changes(faces=[face_id])) as s:
            face = self._face(s, face_id)
            if face.person_id != person_id:
                note_edit(s, [face.asset_id], FACES)
            if person_id is not None:
                self._person(s, person_id)
                self._check_free(s, person_id, face.asset_id, except_face=face.id)
            if not by_user:
                if face.assigned_by_user and face.person_id != person_id:
                    raise Conflict(f"face {face_id} was placed by hand")
                if person_id in people_repo.rejected_people(s, face.id):
                    raise Conflict(f"face {face_id} was rejected for person {person_id}")
            elif person_id is not None:
                people_repo.lift_rejection(s, face.id, person_id)
            if face.person_id != person_id:
                people_repo.unset_cover(s, face.id)
            people_repo.set_face(s, face.id, person_id, by_user and person_id is not None)

    def remove_face(self, face_id: int) -> PersonId | None:
        """ "This is not <name>": unassign the face and remember it is not that person.

        An unnamed cluster left without faces is deleted. Returns the person it was taken from.
        """
        with self._store.write(self._changes(faces=[face_id])) as s:
            face = self._face(s, face_id)
            person_id = face.person_id
            if person_id is None:
                return None
            note_edit(s, [face.asset_id], FACES)
            people_repo.unset_cover(s, face.id)
            people_repo.set_face(s, face.id, None, False)
            if person_id not in people_repo.rejected_people(s, face.id):
                people_repo.add_rejections(s, [(face.id, person_id)], datetime.now())
            s.flush()
            person = self._person(s, person_id)
            if not people_repo.face_count(s, person_id) and not person.name:
                people_repo.delete_person(s, person_id)
            return PersonId(person_id)

    def face_crop(self, face_id: int, size: int = 256) -> bytes:
        """A square JPEG of the face (and a margin) cut from the 1440 px preview, cached on disk.

        Slow the first time (decodes the preview): call it off the GUI thread.
        """
        if not 16 <= size <= 1024:
            raise InvalidInput("a face crop is 16 to 1024 px")
        with self._store.read() as s:
            face = self._face(s, face_id)
            box: Box = face.box
            checksum = people_repo.asset_checksum(s, face.asset_id)
            asset_id = face.asset_id
        assert checksum is not None
        preview = self._thumbnails.preview_path(checksum)
        if not preview.is_file() and not self.crops.path(checksum, box, size).is_file():
            rec = self._assets.get(asset_id)
            if not rec.path:  # on the server only (sync): cut from its thumbnail
                preview = self._thumbnails.thumb_path(checksum)
                if not preview.is_file():
                    raise NotFound(f"photo {asset_id} has no file or thumbnail here yet")
            else:
                self._thumbnails.render(
                    Path(rec.path), checksum, rec.file_type, rec.kind, rec.orientation
                )
        return self.crops.get(checksum, box, size, preview)

    # ----- helpers ---------------------------------------------------------------------------
    def _changes(self, people: Iterable[int] = (), faces: Iterable[int] = ()) -> Changes:
        """``Changes(people=True)`` naming the photos whose list of people changes."""
        with self._store.read() as s:
            ids = people_repo.photos_of(s, list(people), list(faces))
        return Changes(people=True, assets=ids)

    def _person(self, s: Session, person_id: int) -> PersonRow:
        row = people_repo.person(s, person_id)
        if row is None or row.owner_id != self._store.owner_id:
            raise NotFound(f"no person with id {person_id}")
        return row

    def _face(self, s: Session, face_id: int) -> FaceRecord:
        found = people_repo.face(s, face_id)
        if found is None or found[1] != self._store.owner_id:
            raise NotFound(f"no face with id {face_id}")
        return found[0]

    def _named(self, s: Session, name: str) -> int | None:
        wanted = name.casefold()
        rows = people_repo.person_names(s, self._store.owner_id)
        return next((pid for pid, n in rows if n and n.casefold() == wanted), None)

    @staticmethod
    def _check_free(s: Session, person_id: int, asset_id: int, except_face: int = -1) -> None:
        other = people_repo.other_face(s, person_id, asset_id, except_face)
        if other is not None:
            raise Conflict(f"person {person_id} already has face {other} on photo {asset_id}")


def _embedding_bytes(embedding: Sequence[float] | bytes | None) -> bytes | None:
    if embedding is None or isinstance(embedding, bytes):
        return embedding
    import numpy as np

    return np.asarray(embedding, dtype="<f4").tobytes()
