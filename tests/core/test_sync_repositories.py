"""Sync's repositories (catalog/db/sync_*): the first sync's bulk path stays Core (no ORM rows
per asset), a setting stored as null is not a missing one, a forgotten key is gone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from photodesk.core import Library
from photodesk.core.catalog.db import settings
from photodesk.core.catalog.db.schema import Asset
from photodesk.core.sync import fields
from photodesk.core.sync.fresh import insert_fresh
from photodesk.core.sync.types import AssetState

CLOCK = "1700000000000.00000000.node"


def _state(i: int) -> AssetState:
    return AssetState(
        1000 + i,
        f"{i:040x}",
        {"kind": "photo", "file_type": "JPEG", "mime": "image/jpeg", "size": 10 + i,
         "filename": f"p{i}.jpg", "make": "Canon"},
        {"rating": (i % 6, CLOCK), "tag:Places/Paris": (True, CLOCK),
         "album:Trip": (i % 2 == 0, CLOCK), "title": (f"t{i}", "")},
    )  # fmt: skip


def test_fresh_assets_are_inserted_and_read_back_without_orm_rows(library: Library) -> None:
    owner = library.owner_id
    states = [_state(i) for i in range(1200)]  # more than one chunk of 900
    errors: list[str] = []
    orm_rows: list[Any] = []

    def note(_session: Any, obj: Any) -> None:
        if isinstance(obj, Asset):
            orm_rows.append(obj)

    with library.write() as s:
        # Core executemany and Core reads: the session never makes or loads an asset row
        event.listen(s, "transient_to_pending", note)
        event.listen(s, "loaded_as_persistent", note)
        ids = insert_fresh(s, owner, states, {}, errors)
        found = fields.read(s, list(ids.values()))
    assert orm_rows == []
    assert errors == []
    assert len(ids) == len(found) == 1200
    for st in (states[0], states[1], states[1199]):
        row, name, values = found[ids[st.remote_id]]
        assert name == "" and fields.info(row, name)["make"] == "Canon"
        assert values["rating"] == st.fields["rating"]
        assert values["title"] == (st.fields["title"][0], "")
        assert values["tag:Places/Paris"] == (True, CLOCK)
        assert values.get("album:Trip", (False, CLOCK)) == st.fields["album:Trip"]
    with library.read() as s:
        assert settings.get(s, "sync.cursor") is None


def test_a_setting_stored_as_null_is_not_a_missing_one(library: Library) -> None:
    with library.write() as s:
        settings.put(s, "sync.snapshot_after", None)
    with library.read() as s:
        assert settings.get_or(s, "sync.snapshot_after", 7) is None
        assert settings.get_or(s, "sync.never_set", 7) == 7
    with library.write() as s:
        settings.remove(s, ["sync.snapshot_after", "sync.never_set"])
    with library.read() as s:
        assert settings.get_or(s, "sync.snapshot_after", 7) == 7
