"""One person found twice: two sides that clustered the same faces on their own made two people
of one human; a face the other side sends that is one of ours (same photo, boxes overlapping)
links its person there to ours here, and linked people become one (docs/sync.md, "One person").

The rule is a function of the synced state alone, so every side that sees the link decides the
same: the named person wins over an unnamed one; two unnamed people, or two with the same name
(case-insensitive), keep the smaller uid. Two different names are not merged: the link is
reported as a decided conflict and both people stay. A face that either side said is "not this
person" for one of the two is no link. The merge is written as the loser's ``merged`` field
with a fresh clock, so it travels like a merge made by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from photodesk.core.sync import clock, journal
from photodesk.core.sync import people_state as ps
from photodesk.core.sync.types import Decision, Versioned

SAME_PERSON = "same person"


@dataclass
class Links:
    """The (our person, their person) pairs found while applying one batch."""

    pairs: list[tuple[str, str]] = field(default_factory=list)

    def note(self, s: Session, people: ps.People, ours: str, theirs: dict[str, Versioned]) -> None:
        """Our face ``ours`` is the face whose fields ``theirs`` came from the other side."""
        mine = ps.state(s, ps.FACE, ours)
        a = people.resolve(_uid(mine.get("person", ps.NONE)[0]))
        b = people.resolve(_uid(theirs.get("person", ps.NONE)[0]))
        if a is None or b is None or a == b:
            return
        refused = _refused(people, mine) | _refused(people, theirs)
        if a not in refused and b not in refused:
            self.pairs.append((a, b))

    def decide(self, s: Session, people: ps.People) -> tuple[set[str], list[Decision]]:
        """Merge the linked people (after the batch's fields are in): returns the people whose
        state changed and the links kept apart because both people have a name."""
        touched: set[str] = set()
        apart: list[Decision] = []
        reported: set[tuple[str, str]] = set()
        hlc = ""
        for first, second in self.pairs:
            a, b = people.resolve(first), people.resolve(second)
            if a is None or b is None or a == b:
                continue
            names = {a: str(people.name(a)[0] or ""), b: str(people.name(b)[0] or "")}
            if names[a] and names[b] and names[a].casefold() != names[b].casefold():
                pair = (min(a, b), max(a, b))
                if pair not in reported:
                    reported.add(pair)
                    apart.append(Decision(f"person:{pair[0]}", SAME_PERSON, "both",
                                          names[pair[0]], names[pair[1]]))  # fmt: skip
                continue
            winner = min((a, b), key=lambda u: (not names[u], u))
            loser = b if winner == a else a
            hlc = hlc or fresh(s)
            ps.put(s, ps.PERSON, loser, "merged", (winner, hlc))
            people.note(loser, "merged", winner)
            touched |= {winner, loser}
        self.pairs.clear()
        return touched, apart


def break_loops(s: Session, people: ps.People, uids: set[str]) -> set[str]:
    """Two sides that merged each person into the other (by hand, or by this rule while they
    saw different names) made a loop; the smallest uid of it stands for all of them (as
    ``People.resolve`` says) and is made live again with a fresh clock, so it can be edited."""
    hlc = ""
    live: set[str] = set()
    for uid in sorted(uids):
        root = people.resolve(uid)
        if root is not None and root in people.merged:
            hlc = hlc or fresh(s)
            ps.put(s, ps.PERSON, root, "merged", (None, hlc))
            people.note(root, "merged", None)
            live.add(root)
    return live


def fresh(s: Session) -> str:
    """The clock of a decision made here now (after every clock seen)."""
    now = clock.tick(journal.last(s), clock.now_ms(), journal.node(s))
    journal.save(s, now)
    return str(now)


def same_person(people: ps.People, d: Decision) -> bool:
    """A face's ``person`` decision between two people that are one now (nothing was lost)."""
    if d.field != "person" or not d.checksum.startswith(ps.FACE + ":"):
        return False
    kept, dropped = people.resolve(_uid(d.kept)), people.resolve(_uid(d.dropped))
    return kept is not None and kept == dropped


def _uid(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _refused(people: ps.People, fields: dict[str, Versioned]) -> set[str]:
    return {
        p
        for name, (value, _) in fields.items()
        if name.startswith(ps.REJECT) and value is True
        for p in (people.resolve(name[len(ps.REJECT) :]),)
        if p is not None
    }
