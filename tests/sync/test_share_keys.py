"""Share-link keys on the command line: none starts with "-", and any key (also one an older
version made with a leading "-") can be revoked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.catalog.db.schema import ShareLink as LinkRow
from photodesk.core.sharing.links import new_link_key


def test_no_key_starts_with_a_dash() -> None:
    # token_urlsafe starts with "-" once in 64 draws: 4000 keys would show it (p = 1 - 1e-27).
    keys = [new_link_key() for _ in range(4000)]
    assert not [k for k in keys if k.startswith("-")]
    assert all(len(k) == 43 for k in keys)
    assert len(set(keys)) == len(keys)


def test_revoke_takes_any_key(tmp_path: Path, capsys) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        album = int(lib.albums.create("Summer"))
        links = [lib.shares.create_link(lib.owner_id, album_id=album) for _ in range(2)]
        dashed = ["-" + links[0].key[1:], "--" + links[1].key[2:]]
        with lib.write() as s:  # keys as an older version could make them
            for link, key in zip(links, dashed, strict=True):
                s.execute(update(LinkRow).where(LinkRow.id == link.id).values(key=key))
    assert main(["--library", str(lib_dir), "share", "revoke", "--", dashed[0]]) == 0
    assert main(["--library", str(lib_dir), "share", "revoke", f"--key={dashed[1]}"]) == 0
    assert capsys.readouterr().out.count("revoked link") == 2
    with Library.open(lib_dir) as lib:
        assert all(lib.shares.resolve(key=k) is None for k in dashed)
