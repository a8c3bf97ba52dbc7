"""The folder tree: folders of the library's files with counts, and each folder's photos."""

from __future__ import annotations

from pathlib import Path

from photodesk.core import Library
from photodesk.core.organize.folders import FolderNode, FolderService, build_tree
from tests.conftest import make_jpeg


def test_build_tree_skips_the_empty_chain_above_the_photos():
    nodes = build_tree(
        [
            (1, "/home/me/Pictures/a.jpg"),
            (2, "/home/me/Pictures/2023/b.jpg"),
            (3, "/home/me/Pictures/2023/Summer/c.jpg"),
            (3, "/home/me/Pictures/2023/Summer/c.xmp.jpg"),  # one asset, counted once
            (4, "/home/me/Pictures/Archive/old/d.jpg"),
            (5, "/mnt/nas/photos/e.jpg"),
        ]
    )
    assert [(n.path, n.name, n.count, n.total, n.depth) for n in nodes] == [
        ("/home/me/Pictures", "/home/me/Pictures", 1, 4, 0),
        ("/home/me/Pictures/2023", "2023", 1, 2, 1),
        ("/home/me/Pictures/2023/Summer", "Summer", 1, 1, 2),
        ("/home/me/Pictures/Archive", "Archive", 0, 1, 1),
        ("/home/me/Pictures/Archive/old", "old", 1, 1, 2),
        ("/mnt/nas/photos", "/mnt/nas/photos", 1, 1, 0),
    ]
    assert nodes[1].parent == "/home/me/Pictures"
    assert nodes[0].parent is None
    assert build_tree([]) == []


def test_the_library_folder_tree_and_a_folders_photos(library: Library, tmp_path: Path):
    src = tmp_path / "in"
    make_jpeg(src / "a.jpg", seed=1)
    make_jpeg(src / "2023" / "b.jpg", seed=2, when="2023:01:01 10:00:00")
    make_jpeg(src / "2023" / "c.jpg", seed=3, when="2023:02:01 10:00:00")
    make_jpeg(src / "2023" / "Summer" / "d.jpg", seed=4)
    make_jpeg(src / "2023" / "Summer" / "e.jpg", seed=5)
    library.importer.import_paths([src], workers=1)
    folders = library.folders
    tree = folders.tree()
    assert all(isinstance(n, FolderNode) for n in tree)
    by_name = {n.name: n for n in tree}
    top = tree[0]
    assert top.path == str(src) and top.depth == 0 and (top.count, top.total) == (1, 5)
    assert (by_name["2023"].count, by_name["2023"].total) == (2, 4)
    assert (by_name["Summer"].count, by_name["Summer"].total) == (2, 2)

    names = {int(a.id): Path(a.path).name for a in library.assets.list()}
    summer = folders.assets(by_name["Summer"].path)
    assert sorted(names[i] for i in summer) == ["d.jpg", "e.jpg"]
    in_2023 = folders.assets(by_name["2023"].path)
    assert len(in_2023) == 4  # a folder's view includes the folders below it
    assert library.assets.ids(FolderService.query(by_name["2023"].path)) == in_2023
    # "2023" must not match a sibling called "2023 extra".
    make_jpeg(src / "2023 extra" / "f.jpg", seed=6)
    library.importer.import_paths([src], workers=1)
    assert len(folders.assets(by_name["2023"].path)) == 4

    # Trashed photos leave the counts.
    library.assets.trash([summer[0]])
    after = {n.name: n for n in folders.tree()}
    assert after["Summer"].count == 1


def test_the_corpus_is_one_folder(library: Library, corpus: Path):
    library.importer.import_paths([corpus], workers=2)
    tree = library.folders.tree()
    assert [n.path for n in tree] == [str(corpus)]
    assert tree[0].count == len(library.assets.ids())
    assert library.folders.assets(str(corpus)) == library.assets.ids()
