"""dlib face backend on real corpus photos: identities match under 0.6, strangers stay apart."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.ml.errors import ImageReadError

pytest.importorskip("dlib")
faces_dlib = pytest.importorskip("photodesk.ml.faces_dlib")
if faces_dlib.dlib_status():
    pytest.skip(faces_dlib.dlib_status(), allow_module_level=True)


@pytest.fixture(scope="module")
def analyzer():
    return faces_dlib.DlibFaceAnalyzer()


def _single_identity_photos(corpus: Path) -> list[tuple[str, str]]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        (r["file"], r["identity"])
        for r in rows
        if r["identity"] and ";" not in r["identity"] and r["file"].startswith("facerec__")
    ]


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def test_identities_match_and_strangers_do_not(corpus: Path, analyzer) -> None:
    photos = _single_identity_photos(corpus)
    assert len({ident for _, ident in photos}) >= 5
    embeddings = {}
    for name, ident in photos:
        faces = analyzer.analyze(str(corpus / name))
        assert faces, f"no face found in {name}"
        face = faces[0]
        assert face.embedding.dtype == np.float32
        assert face.embedding.shape == (128,)
        assert 0.5 <= face.score <= 1.0
        x1, y1, x2, y2 = face.box
        assert 0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0
        assert len(face.landmarks) == 10
        xs, ys = face.landmarks[0::2], face.landmarks[1::2]
        # landmarks lie in the box; eye points run left to right in the image
        assert all(x1 <= x <= x2 for x in xs) and all(y1 <= y <= y2 for y in ys)
        assert xs[0] < xs[1] < xs[2] < xs[3]
        embeddings[name] = (ident, face.embedding)

    same, different = [], []
    for (n1, (i1, e1)), (n2, (i2, e2)) in itertools.combinations(embeddings.items(), 2):
        (same if i1 == i2 else different).append((_dist(e1, e2), n1, n2))
    assert len(same) >= 5
    assert len(different) >= 20
    md = faces_dlib.DlibFaceAnalyzer.match_distance
    assert max(same)[0] < md, max(same)
    assert min(different)[0] > md, min(different)


def test_two_people_in_one_photo_match_their_portraits(corpus: Path, analyzer) -> None:
    obama = analyzer.analyze(str(corpus / "facerec__obama.jpg"))[0].embedding
    biden = analyzer.analyze(str(corpus / "facerec__biden.jpg"))[0].embedding
    faces = analyzer.analyze(str(corpus / "facerec__two_people.jpg"))
    assert len(faces) == 2
    to_obama = sorted(_dist(f.embedding, obama) for f in faces)
    to_biden = sorted(_dist(f.embedding, biden) for f in faces)
    # exactly one face matches each, and the two faces are far from each other
    assert to_obama[0] < 0.6 < to_obama[1]
    assert to_biden[0] < 0.6 < to_biden[1]
    assert _dist(faces[0].embedding, faces[1].embedding) > 0.6


def test_exif_orientation_gives_the_same_face_box(corpus: Path, analyzer) -> None:
    """Every hopper_orientation_N.jpg shows the same upright picture once EXIF is applied."""
    upright = analyzer.analyze(str(corpus / "pillow__hopper.jpg"))
    assert len(upright) == 1
    for n in (3, 6, 8):
        faces = analyzer.analyze(str(corpus / f"pillow__hopper_orientation_{n}.jpg"))
        assert len(faces) == 1
        assert np.allclose(faces[0].box, upright[0].box, atol=0.03), n
        assert _dist(faces[0].embedding, upright[0].embedding) < 0.3


def test_pixels_stored_rotated_are_analysed_upright(tmp_path: Path, corpus, analyzer):
    """Relative boxes refer to the upright image, also when the orientation is stored in EXIF."""
    with Image.open(corpus / "facerec__obama.jpg") as im:
        rotated = im.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": undoes the counter-clockwise ROTATE_90 above
    path = tmp_path / "rotated.jpg"
    rotated.save(path, exif=exif, quality=92)
    plain = analyzer.analyze(str(corpus / "facerec__obama.jpg"))
    stored = analyzer.analyze(str(path))
    assert len(stored) == 1
    assert np.allclose(stored[0].box, plain[0].box, atol=0.03)


def test_no_face_and_unreadable_image(tmp_path: Path, analyzer) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), (90, 120, 200)).save(blank)
    assert analyzer.analyze(str(blank)) == []
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(ImageReadError, match=r"broken\.jpg"):
        analyzer.analyze(str(broken))


def test_face_record_matches_the_core_port() -> None:
    """ml cannot import core, so its Face mirrors core.ports.DetectedFace field for field."""
    import dataclasses

    from photodesk.core.inference.ports import DetectedFace
    from photodesk.ml.faces_types import Face

    def fields(cls):
        return [(f.name, str(f.type)) for f in dataclasses.fields(cls)]

    assert fields(Face) == fields(DetectedFace)
    assert Face.__dataclass_params__.frozen
