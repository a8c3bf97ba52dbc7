"""People sync state: global ids of people and faces, field clocks, and finding local edits.

Writes to people and faces are logged by triggers (``sync_people_log``). ``stamp`` turns the
rows not stamped yet into field clocks: for each person or face written, every field whose live
value differs from what the synced state says it should be gets the row's clock. A person that
is gone is a merge when its faces went to one other person (``merged``), else ``gone``.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, cast, insert, literal, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, Face, FaceRejection, Person
from photodesk.core.catalog.db.sync_people_log import SyncPeopleId, SyncPeopleLog, SyncPeopleState
from photodesk.core.sync import clock, journal
from photodesk.core.sync.fields import wins
from photodesk.core.sync.types import PeopleItem, Versioned

PERSON, FACE = "person", "face"
REJECT = "reject:"
NONE: Versioned = (None, "")


def default(field: str) -> Versioned:
    return (
        (False, "") if field in ("hidden", "gone", "by_user") or field.startswith(REJECT) else NONE
    )


# -- ids -------------------------------------------------------------------------------------


def uid_of(s: Session, kind: str, local_id: int) -> str | None:
    """The main uid of a live local person or face (None: never stamped)."""
    return s.scalar(
        select(SyncPeopleId.uid).where(
            SyncPeopleId.kind == kind, SyncPeopleId.local_id == local_id, SyncPeopleId.main
        )
    )


def make_uid(s: Session, kind: str, local_id: int, owner: int) -> str:
    found = uid_of(s, kind, local_id)
    if found is not None:
        return found
    uid = f"{journal.node(s)}-{kind[0]}{local_id}-{secrets.token_hex(3)}"
    s.add(SyncPeopleId(kind=kind, uid=uid, owner_id=owner, local_id=local_id, main=True))
    s.flush()
    return uid


def lookup(s: Session, kind: str, uid: str) -> SyncPeopleId | None:
    return s.get(SyncPeopleId, (kind, uid))


def main_uid(s: Session, kind: str, uid: str) -> str | None:
    """The uid this side keeps state under for ``uid`` (itself, or the face it is an alias of)."""
    row = lookup(s, kind, uid)
    if row is None:
        return None
    if row.main or row.local_id is None:
        return row.uid
    return uid_of(s, kind, row.local_id) or row.uid


def local_id(s: Session, kind: str, uid: str) -> int | None:
    row = lookup(s, kind, uid)
    return None if row is None else row.local_id


# -- field state -----------------------------------------------------------------------------


def state(s: Session, kind: str, uid: str) -> dict[str, Versioned]:
    return {
        r.field: (r.value, r.hlc)
        for r in s.scalars(
            select(SyncPeopleState).where(SyncPeopleState.kind == kind, SyncPeopleState.uid == uid)
        )
    }


def put(s: Session, kind: str, uid: str, field: str, value: Versioned) -> None:
    row = s.get(SyncPeopleState, (kind, uid, field))
    if row is None:
        s.add(SyncPeopleState(kind=kind, uid=uid, field=field, value=value[0], hlc=value[1]))
    else:
        row.value, row.hlc = value[0], value[1]
    s.flush()


class People:
    """The synced people of a catalog, read once per transaction: merges and names for
    resolving a person's uid to the person that stands for it now."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.merged: dict[str, str] = {}
        self.gone: set[str] = set()
        for r in s.scalars(
            select(SyncPeopleState).where(
                SyncPeopleState.kind == PERSON, SyncPeopleState.field.in_(("merged", "gone"))
            )
        ):
            if r.field == "merged" and isinstance(r.value, str) and r.value:
                self.merged[r.uid] = r.value
            elif r.field == "gone" and r.value is True:
                self.gone.add(r.uid)

    def note(self, uid: str, field: str, value: Any) -> None:
        if field == "merged":
            if isinstance(value, str) and value:
                self.merged[uid] = value
            else:
                self.merged.pop(uid, None)
        elif field == "gone":
            (self.gone.add if value is True else self.gone.discard)(uid)

    def resolve(self, uid: str | None) -> str | None:
        """The live person ``uid`` stands for (following merges); None if it is gone."""
        seen: list[str] = []
        while uid is not None and uid in self.merged and uid not in seen:
            seen.append(uid)
            uid = self.merged[uid]
        if uid is not None and uid in seen:  # two sides merged each into the other:
            uid = min(seen[seen.index(uid) :])  # the smallest uid stands for them, everywhere
            return None if uid in self.gone else uid
        return None if uid is None or uid in self.gone or uid in self.merged else uid

    def members(self, uid: str) -> list[str]:
        return [m for m in self.merged if m != uid and self.resolve(m) == uid]

    def name(self, uid: str) -> Versioned:
        """A person's name: its own; if it has none, the latest name of a person merged into it
        (so a rename on one side and a merge on the other both survive)."""
        best = state(self.s, PERSON, uid).get("name", ("", ""))
        if best[0]:
            return best
        for m in self.members(uid):
            theirs = state(self.s, PERSON, m).get("name", ("", ""))
            if theirs[0] and (not best[0] or wins(theirs, best)):
                best = theirs
        return best


# -- finding local edits ---------------------------------------------------------------------


def stamp(s: Session) -> int:
    """Give the people log's new rows clocks and record the fields they changed."""
    rows = s.execute(
        select(SyncPeopleLog.seq, SyncPeopleLog.owner_id, SyncPeopleLog.kind,
               SyncPeopleLog.ref_id, SyncPeopleLog.wall_ms)
        .where(SyncPeopleLog.hlc.is_(None))
        .order_by(SyncPeopleLog.seq)
    ).all()  # fmt: skip
    if not rows:
        return 0
    me, current = journal.node(s), journal.last(s)
    touched: dict[tuple[str, int], tuple[str, int, list[int]]] = {}
    for r in rows:
        current = clock.tick(current, int(r.wall_ms), me)
        seqs = touched.get((r.kind, r.ref_id), ("", 0, []))[2]
        touched[(r.kind, r.ref_id)] = (str(current), r.owner_id, [*seqs, r.seq])
    journal.save(s, current)
    people = People(s)
    uids: dict[tuple[str, int], str | None] = {}
    order = sorted(touched, key=lambda k: (k[0] != PERSON, k[1]))  # people before faces
    for kind, ref in order:
        hlc, owner, _ = touched[(kind, ref)]
        if kind == PERSON:
            uids[(kind, ref)] = _stamp_person(s, people, ref, owner, hlc)
        else:
            uids[(kind, ref)] = _stamp_face(s, people, ref, owner, hlc)
    s.execute(
        update(SyncPeopleLog),
        [
            {"seq": seq, "hlc": touched[key][0], "uid": uids[key] or ""}
            for key in touched
            for seq in touched[key][2]
        ],
    )
    return len(rows)


def _stamp_person(s: Session, people: People, pid: int, owner: int, hlc: str) -> str | None:
    row = s.get(Person, pid)
    uid = uid_of(s, PERSON, pid)
    if row is None:
        if uid is None:
            return None  # made and deleted between two looks: no one else knew it
        _person_gone(s, people, uid, hlc)
        return uid
    uid = uid or make_uid(s, PERSON, pid, owner)
    now = state(s, PERSON, uid)
    if now.get("gone", NONE)[0] is True or now.get("merged", NONE)[0]:
        return uid  # a tombstone's row being deleted by sync itself
    if (row.name or "") != (people.name(uid)[0] or ""):
        put(s, PERSON, uid, "name", (row.name or "", hlc))
    if bool(row.hidden) != bool(now.get("hidden", (False, ""))[0]) or "hidden" not in now:
        put(s, PERSON, uid, "hidden", (bool(row.hidden), hlc))
    return uid


def _person_gone(s: Session, people: People, uid: str, hlc: str) -> None:
    """A person deleted here: merged into the person most of its faces went to, else gone."""
    ids = s.get(SyncPeopleId, (PERSON, uid))
    if ids is not None:
        ids.local_id = None
    now = state(s, PERSON, uid)
    if now.get("gone", NONE)[0] is True or now.get("merged", NONE)[0]:
        return
    faces = list(
        s.scalars(
            select(SyncPeopleState.uid).where(
                SyncPeopleState.kind == FACE,
                SyncPeopleState.field == "person",
                cast(SyncPeopleState.value, Text) == json.dumps(uid),  # JSON text of the uid
            )
        )
    )
    went: Counter[str] = Counter()
    owner = ids.owner_id if ids is not None else 0
    for face_uid in faces:
        fid = local_id(s, FACE, face_uid)
        pid = s.scalar(select(Face.person_id).where(Face.id == fid)) if fid is not None else None
        target = make_uid(s, PERSON, pid, owner) if pid is not None else None
        if target is not None and target != uid:
            went[target] += 1
    if went:
        target = went.most_common(1)[0][0]
        put(s, PERSON, uid, "merged", (target, hlc))
        people.note(uid, "merged", target)
    else:
        put(s, PERSON, uid, "gone", (True, hlc))
        people.note(uid, "gone", True)


def _stamp_face(s: Session, people: People, fid: int, owner: int, hlc: str) -> str | None:
    row = s.get(Face, fid)
    uid = uid_of(s, FACE, fid)
    if row is None:
        if uid is None:
            return None
        for alias in s.scalars(
            select(SyncPeopleId).where(SyncPeopleId.kind == FACE, SyncPeopleId.local_id == fid)
        ):
            alias.local_id = None
        if state(s, FACE, uid).get("gone", NONE)[0] is not True:
            put(s, FACE, uid, "gone", (True, hlc))
        return uid
    uid = uid or make_uid(s, FACE, fid, owner)
    now = state(s, FACE, uid)
    person = make_uid(s, PERSON, row.person_id, owner) if row.person_id is not None else None
    if "person" not in now or person != people.resolve(now["person"][0]):
        put(s, FACE, uid, "person", (person, hlc))
    if "by_user" not in now or bool(row.assigned_by_user) != bool(now["by_user"][0]):
        put(s, FACE, uid, "by_user", (bool(row.assigned_by_user), hlc))
    if "gone" not in now:
        put(s, FACE, uid, "gone", (False, hlc))
    live = {
        make_uid(s, PERSON, pid, owner)
        for pid in s.scalars(select(FaceRejection.person_id).where(FaceRejection.face_id == fid))
    }
    said = {
        people.resolve(f[len(REJECT) :]) for f, v in now.items() if f.startswith(REJECT) and v[0]
    }
    for p in live - said:
        put(s, FACE, uid, REJECT + p, (True, hlc))
    for f, v in now.items():
        if f.startswith(REJECT) and v[0] and people.resolve(f[len(REJECT) :]) not in live:
            put(s, FACE, uid, f, (False, hlc))
    return uid


# -- reading items to send -------------------------------------------------------------------


def items(s: Session, keys: Iterable[tuple[str, str]]) -> list[PeopleItem]:
    """People and faces (by main uid), whole, people first (a face may name one of them)."""
    out: list[PeopleItem] = []
    wanted = sorted(set(keys), key=lambda k: (k[0] != PERSON, k[1]))
    face_ids = {uid: local_id(s, FACE, uid) for kind, uid in wanted if kind == FACE}
    infos = _face_infos(s, [i for i in face_ids.values() if i is not None])
    for kind, uid in wanted:
        fields = state(s, kind, uid)
        if not fields:
            continue
        info: dict[str, Any] = {}
        if kind == FACE:
            fid = face_ids.get(uid)
            if fields.get("gone", NONE)[0] is not True and fid in infos:
                info = infos[fid]
        out.append(PeopleItem(kind, uid, info, fields))
    return out


def _face_infos(s: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for k in range(0, len(ids), 500):
        for f, checksum in s.execute(
            select(Face, Asset.checksum)
            .join(Asset, Asset.id == Face.asset_id)
            .where(Face.id.in_(ids[k : k + 500]))
        ):
            out[f.id] = {
                "checksum": checksum,
                "box": [f.x1, f.y1, f.x2, f.y2],
                "score": f.score,
                "landmarks": f.landmarks,
                "model": f.model,
                "embedding": base64.b64encode(f.embedding).decode() if f.embedding else None,
            }
    return out


def log_all(s: Session, owner: int) -> None:
    """Put every person and face of ``owner`` in the outbox (pairing: the server has none)."""
    now = clock.now_ms()
    s.execute(
        insert(SyncPeopleLog).from_select(
            ["owner_id", "kind", "ref_id", "wall_ms"],
            select(Person.owner_id, literal(PERSON), Person.id, literal(now)).where(
                Person.owner_id == owner
            ),
        )
    )
    s.execute(
        insert(SyncPeopleLog).from_select(
            ["owner_id", "kind", "ref_id", "wall_ms"],
            select(Asset.owner_id, literal(FACE), Face.id, literal(now))
            .join(Asset, Asset.id == Face.asset_id)
            .where(Asset.owner_id == owner),
        )
    )
