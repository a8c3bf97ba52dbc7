"""People and faces both ways: the feed of an account's people, and applying what the other side
sent (each field last-writer-wins by clock, the same on both sides; docs/sync.md, "People").

Applying an item writes its winning fields to the synced state, then makes the catalog's own
rows say the same (``_materialize``): people made, renamed, hidden, merged or deleted; faces
made (from the other side's box and embedding), placed, rejected or deleted. A face the other
side found where this side found one too (same photo, box IoU >= 0.5) is the same face: its uid
becomes an alias, so two detections never make two faces; and the two people it was in are one
(``people_links``: merged by a rule every side applies alike).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import faces as face_repo
from photodesk.core.catalog.db import people as people_repo
from photodesk.core.catalog.db.schema import Asset, AssetAnalysis, Face, FaceRejection, Person
from photodesk.core.catalog.db.sync_people_log import SyncPeopleId, SyncPeopleLog
from photodesk.core.sync import clock, journal
from photodesk.core.sync import people_state as ps
from photodesk.core.sync.fields import wins
from photodesk.core.sync.people_links import Links, break_loops, same_person
from photodesk.core.sync.types import Decision, PeopleItem, PeoplePage

MAX_PAGE = 2000
PERSON_FIELDS = ("name", "hidden", "merged", "gone")
FACE_FIELDS = ("person", "by_user", "gone")


@dataclass
class Applied:
    applied: int = 0
    skipped: int = 0
    decisions: list[Decision] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    repush: list[tuple[str, str]] = field(default_factory=list)  # ours won: send it back
    assets: set[int] = field(default_factory=set)


def head(s: Session, owner: int) -> int:
    return int(
        s.scalar(select(func.max(SyncPeopleLog.seq)).where(SyncPeopleLog.owner_id == owner)) or 0
    )


def feed(s: Session, owner: int, cursor: int, limit: int) -> PeoplePage:
    """The owner's people and faces written after ``cursor`` (the caller stamped first)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = s.execute(
        select(SyncPeopleLog.seq, SyncPeopleLog.kind, SyncPeopleLog.uid)
        .where(SyncPeopleLog.owner_id == owner, SyncPeopleLog.seq > cursor)
        .order_by(SyncPeopleLog.seq)
        .limit(limit)
    ).all()
    keys = [(r.kind, ps.main_uid(s, r.kind, r.uid) or r.uid) for r in rows if r.uid]
    # the people its faces are in come along (already sent or not), so a receiver that finds
    # one of its own faces among them knows whose face it was (name included) before deciding
    people = ps.People(s)
    keys += [
        (ps.PERSON, p)
        for kind, uid in keys
        if kind == ps.FACE
        for p in (people.resolve(ps.state(s, kind, uid).get("person", ps.NONE)[0]),)
        if p is not None
    ]
    return PeoplePage(
        tuple(ps.items(s, keys)),
        rows[-1].seq if rows else cursor,
        head(s, owner),
        len(rows) == limit,
    )


def _valid(item: PeopleItem) -> str | None:
    allowed = PERSON_FIELDS if item.kind == ps.PERSON else FACE_FIELDS
    for name, (value, hlc) in item.fields.items():
        if hlc and not clock.valid(hlc):
            return f"bad clock for {name[:40]!r}"
        if name not in allowed and not (item.kind == ps.FACE and name.startswith(ps.REJECT)):
            return f"{name[:40]!r} is not a synced field of a {item.kind}"
        if name in ("hidden", "gone", "by_user") or name.startswith(ps.REJECT):
            if not isinstance(value, bool):
                return f"{name} is true or false"
        elif name == "name" and not (isinstance(value, str) and len(value) <= 200):
            return "a name is text of at most 200 characters"
        elif name in ("merged", "person") and not (value is None or isinstance(value, str)):
            return f"{name} is a person's uid or null"
    return None


def apply(
    s: Session, owner: int, items: Sequence[PeopleItem], *, sender: str, log: bool
) -> Applied:
    """Merge people and faces from the other side (``sender``: "remote" on the desktop,
    "device" on the server) into this catalog's people of ``owner``; ``log``: put what changed
    in the people feed (the server)."""
    out = Applied()
    ps.stamp(s)  # edits made here before this arrived sort before it
    before = int(s.scalar(select(func.max(SyncPeopleLog.seq))) or 0)
    people = ps.People(s)
    links = Links()
    touched_people: set[str] = set()
    touched_faces: set[str] = set()
    ordered = sorted(items, key=lambda i: i.kind != ps.PERSON)
    for item in ordered:
        bad = _valid(item)
        if bad is not None:
            out.errors.append(f"{item.kind} {item.uid[:40]}: {bad}")
            continue
        if item.kind == ps.PERSON:
            uid = _person_uid(s, owner, item.uid)
        else:
            got = _face_uid(s, owner, item, out, people, links)
            if got is None:
                continue
            uid = got
        if uid is None:
            out.errors.append(f"{item.kind} {item.uid[:40]}: belongs to another account")
            continue
        mine_all = ps.state(s, item.kind, uid)
        changed = False
        for name, theirs in item.fields.items():
            mine = mine_all.get(name, ps.default(name))
            if theirs == mine:
                continue
            if wins(theirs, mine):
                ps.put(s, item.kind, uid, name, theirs)
                if item.kind == ps.PERSON:
                    people.note(uid, name, theirs[0])
                changed = True
                if mine[1] and mine[0] != theirs[0]:
                    out.decisions.append(
                        Decision(f"{item.kind}:{uid}", name, sender, theirs[0], mine[0])
                    )
            else:
                out.repush.append((item.kind, uid))
                if theirs[1] and mine[0] != theirs[0]:
                    winner = "local" if sender == "remote" else "server"
                    out.decisions.append(
                        Decision(f"{item.kind}:{uid}", name, winner, mine[0], theirs[0])
                    )
        if changed or local_missing(s, item.kind, uid):
            out.applied += 1
            (touched_people if item.kind == ps.PERSON else touched_faces).add(uid)
        else:
            out.skipped += 1
    journal.observe(s, [h for i in items for _, h in i.fields.values() if h])
    merged, apart = links.decide(s, people)  # one person found on both sides
    merged |= break_loops(s, people, touched_people)
    touched_people |= merged
    out.repush += [(ps.PERSON, uid) for uid in sorted(merged)]
    out.decisions = [d for d in out.decisions if not same_person(people, d)] + apart
    _materialize(s, owner, people, touched_people, touched_faces, out)
    s.flush()
    # the rows the triggers wrote while following the other side are not edits made here;
    # on the server what changed goes in the feed under its uid (a deleted row has no id)
    s.execute(delete(SyncPeopleLog).where(SyncPeopleLog.seq > before))
    if log:
        hlc, now = str(journal.last(s) or "-"), clock.now_ms()
        s.add_all(
            SyncPeopleLog(owner_id=owner, kind=kind, ref_id=ps.local_id(s, kind, uid) or 0,
                          wall_ms=now, hlc=hlc, uid=uid)
            for kind, uids in ((ps.PERSON, touched_people), (ps.FACE, touched_faces))
            for uid in sorted(uids)
        )  # fmt: skip
    return out


def local_missing(s: Session, kind: str, uid: str) -> bool:
    """A live item that has no row here yet (a face or person made by this apply)."""
    gone = ps.state(s, kind, uid)
    dead = gone.get("gone", ps.NONE)[0] is True or bool(gone.get("merged", ps.NONE)[0])
    return not dead and ps.local_id(s, kind, uid) is None


def _person_uid(s: Session, owner: int, uid: str) -> str | None:
    row = ps.lookup(s, ps.PERSON, uid)
    if row is None:
        s.add(SyncPeopleId(kind=ps.PERSON, uid=uid, owner_id=owner, local_id=None, main=True))
        s.flush()
        return uid
    return uid if row.owner_id == owner else None


def _face_uid(
    s: Session, owner: int, item: PeopleItem, out: Applied, people: ps.People, links: Links
) -> str | None:
    row = ps.lookup(s, ps.FACE, item.uid)
    if row is not None:
        if row.owner_id != owner:
            out.errors.append(f"face {item.uid[:40]}: belongs to another account")
            return None
        return ps.main_uid(s, ps.FACE, item.uid)
    info = item.info
    if item.fields.get("gone", ps.NONE)[0] is True or not info:
        # a face this side never had, already deleted there: remember it stays deleted
        s.add(SyncPeopleId(kind=ps.FACE, uid=item.uid, owner_id=owner, local_id=None, main=True))
        s.flush()
        return item.uid
    asset = s.scalar(
        select(Asset.id).where(Asset.owner_id == owner, Asset.checksum == str(info.get("checksum")))
    )
    if asset is None:
        out.errors.append(f"face {item.uid[:40]}: no asset {str(info.get('checksum'))[:40]} here")
        return None
    try:
        box = tuple(float(v) for v in info["box"])
        if len(box) != 4 or not (0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1):
            raise ValueError
        embedding = base64.b64decode(info["embedding"]) if info.get("embedding") else None
    except (KeyError, TypeError, ValueError, binascii.Error):
        out.errors.append(f"face {item.uid[:40]}: a face needs a box within 0-1")
        return None
    near = [(_iou(box, other), fid) for fid, other in face_repo.boxes(s, asset)]
    best = max(near, key=lambda n: (n[0], -n[1]), default=(0.0, 0))
    if best[0] >= 0.5:  # the same face: the closest box (the oldest of equals)
        main = ps.make_uid(s, ps.FACE, best[1], owner)
        s.add(SyncPeopleId(kind=ps.FACE, uid=item.uid, owner_id=owner, local_id=best[1],
                           main=False))  # fmt: skip
        s.flush()
        links.note(s, people, main, dict(item.fields))
        return main
    model = str(info.get("model") or "")[:100]
    face = Face(
        asset_id=asset, person_id=None, x1=box[0], y1=box[1], x2=box[2], y2=box[3],
        score=float(info.get("score") or 0.0), model=model, embedding=embedding,
        landmarks=[float(v) for v in info["landmarks"]] if info.get("landmarks") else None,
        assigned_by_user=False,
    )  # fmt: skip
    s.add(face)
    s.flush()
    s.add(SyncPeopleId(kind=ps.FACE, uid=item.uid, owner_id=owner, local_id=face.id, main=True))
    if model and s.get(AssetAnalysis, (asset, "faces")) is None:
        # found there with this model: this side's detection need not look again
        found = s.scalar(select(func.count()).where(Face.asset_id == asset)) or 0
        s.add(AssetAnalysis(asset_id=asset, task="faces", model=model, found=int(found),
                            done_at=datetime.now()))  # fmt: skip
    s.flush()
    out.assets.add(asset)
    return item.uid


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# -- making the catalog's rows say what the state says ---------------------------------------


def _materialize(
    s: Session,
    owner: int,
    people: ps.People,
    persons: set[str],
    faces: set[str],
    out: Applied,
) -> None:
    targets = {t for p in persons if (t := people.resolve(p)) is not None}
    for uid in sorted(targets):
        _live_person(s, owner, people, uid)
    for uid in sorted(persons - targets):
        _dead_person(s, owner, people, uid, out)
    for uid in sorted(faces):
        _face(s, owner, people, uid, out)


def _live_person(s: Session, owner: int, people: ps.People, uid: str) -> int:
    pid = ps.local_id(s, ps.PERSON, uid)
    row = s.get(Person, pid) if pid is not None else None
    fields = ps.state(s, ps.PERSON, uid)
    name = str(people.name(uid)[0] or "")
    hidden = bool(fields.get("hidden", (False, ""))[0])
    if row is None:
        row = Person(owner_id=owner, name=name, hidden=hidden, created_at=datetime.now())
        s.add(row)
        s.flush()
        ids = s.get(SyncPeopleId, (ps.PERSON, uid))
        assert ids is not None
        ids.local_id = row.id
    else:
        row.name, row.hidden = name, hidden
    s.flush()
    return row.id


def _person_row(s: Session, owner: int, people: ps.People, uid: str | None) -> int | None:
    """The local person a (resolved) uid stands for, made if this side has not got it."""
    live = people.resolve(uid)
    if live is None:
        return None
    pid = ps.local_id(s, ps.PERSON, live)
    if pid is not None and s.get(Person, pid) is not None:
        return pid
    if ps.lookup(s, ps.PERSON, live) is None:
        s.add(SyncPeopleId(kind=ps.PERSON, uid=live, owner_id=owner, local_id=None, main=True))
        s.flush()
    return _live_person(s, owner, people, live)


def _dead_person(s: Session, owner: int, people: ps.People, uid: str, out: Applied) -> None:
    pid = ps.local_id(s, ps.PERSON, uid)
    row = s.get(Person, pid) if pid is not None else None
    if row is None:
        return
    into = _person_row(s, owner, people, uid)  # None: deleted, not merged
    out.assets.update(s.scalars(select(Face.asset_id).where(Face.person_id == row.id)))
    refused = people_repo.rejected_faces(s, into) if into is not None else set()
    for face in s.scalars(select(Face).where(Face.person_id == row.id)):
        face.person_id = None if face.id in refused else into
        if face.person_id is None:
            face.assigned_by_user = False
    if into is not None:
        have = set(s.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id == into)))
        for fid in s.scalars(
            select(FaceRejection.face_id).where(FaceRejection.person_id == row.id)
        ):
            if fid not in have:
                s.add(FaceRejection(face_id=fid, person_id=into, created_at=datetime.now()))
    s.flush()
    s.delete(row)
    ids = s.get(SyncPeopleId, (ps.PERSON, uid))
    if ids is not None:
        ids.local_id = None
    s.flush()


def _face(s: Session, owner: int, people: ps.People, uid: str, out: Applied) -> None:
    fid = ps.local_id(s, ps.FACE, uid)
    row = s.get(Face, fid) if fid is not None else None
    fields = ps.state(s, ps.FACE, uid)
    if row is None:
        return
    out.assets.add(row.asset_id)
    if fields.get("gone", ps.NONE)[0] is True:
        s.delete(row)
        for alias in s.scalars(select(SyncPeopleId).where(
            SyncPeopleId.kind == ps.FACE, SyncPeopleId.local_id == row.id
        )):  # fmt: skip
            alias.local_id = None
        s.flush()
        return
    wanted = {
        p
        for name, (value, _) in fields.items()
        if name.startswith(ps.REJECT) and value is True
        for p in (_person_row(s, owner, people, name[len(ps.REJECT) :]),)
        if p is not None
    }
    person = _person_row(s, owner, people, _str(fields.get("person", ps.NONE)[0]))
    # "not this person" wins over a placement made on another side (two people that became one)
    row.person_id = None if person in wanted else person
    row.assigned_by_user = bool(fields.get("by_user", (False, ""))[0]) and row.person_id is not None
    have = set(s.scalars(select(FaceRejection.person_id).where(FaceRejection.face_id == row.id)))
    if have - wanted:
        s.execute(
            delete(FaceRejection).where(
                FaceRejection.face_id == row.id, FaceRejection.person_id.in_(have - wanted)
            )
        )
    for p in wanted - have:
        s.add(FaceRejection(face_id=row.id, person_id=p, created_at=datetime.now()))
    s.flush()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
