"""ML throughput on this machine: CLIP image and text embedding, dlib faces; then search latency.

Usage: python bench/ml_bench.py [--images 32] [--batch 16] [--skip-search] [--models DIR]

1. CLIP: a ViT-B/32 pack exported with random weights (``photodesk models export-clip
   ViT-B-32 openai --random-weights``: same compute as the real model; needs the ``export``
   extra, done once and cached in ~/.cache/photodesk/bench-models, or taken from --models).
   Times ``ClipModel.embed_images`` on real corpus photos (decode with EXIF, preprocess,
   batched inference) against the bare route: ``session.run`` on pre-made input tensors of the
   same batch size, same session options. Also text embedding per query.
2. Faces: ``DlibFaceAnalyzer.analyze`` (decode, EXIF, HOG detection, landmarks, 128-d
   descriptors) on corpus photos with people, against bare dlib calls on pre-decoded arrays.
3. When bench/search_bench.py exists, runs its main() with the same CLIP pack for the text
   embedding (smart-search latency at 100,000 and 1,000,000 embeddings).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "photodesk"
CACHE = CACHE / "bench-models"
PACK = "ViT-B-32__random"


def corpus_photos(limit: int, *, with_people: bool = False) -> list[Path]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    names = [
        r["file"]
        for r in rows
        if r["kind"] == "jpeg"
        and (r["identity"] if with_people else True)
        and r["file"].lower().endswith((".jpg", ".jpeg"))
    ]
    from PIL import Image

    photos = []
    for name in sorted(names):
        try:
            with Image.open(CORPUS / name) as im:
                if min(im.size) >= 200:  # skip the 8x8 metadata test files
                    photos.append(CORPUS / name)
        except OSError:  # the corpus has deliberately broken files
            continue
    return photos[:limit]


def clip_pack(models: Path | None) -> Path:
    if models is not None:
        for name in ("ViT-B-32__openai", PACK):
            if (models / name / "visual" / "model.onnx").is_file():
                return models / name
    if (CACHE / PACK / "visual" / "model.onnx").is_file():
        return CACHE / PACK
    from photodesk.ml.clip_export import export_clip

    print(f"exporting ViT-B-32 with random weights into {CACHE} (once)...")
    export_clip("ViT-B-32", "openai", CACHE, random_weights=True, report=print)
    return CACHE / PACK


def best(fn, reps: int) -> float:
    """Best of ``reps`` wall times (seconds) of fn()."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_interleaved(fns: list, reps: int) -> list[float]:
    """Best wall time of each of ``fns``, run in turn ``reps`` times (fair on a busy machine)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def bench_clip(pack: Path, n_images: int, batch: int) -> None:
    from photodesk.ml.clip import ClipModel
    from photodesk.ml.runtime import cpu_threads

    print(f"\n== CLIP image encoder ({pack.name}), batch {batch}, {cpu_threads()} threads ==")
    model = ClipModel(pack, batch_size=batch, idle_seconds=None, text_cache_size=0)
    photos = corpus_photos(n_images)
    paths = [str(p) for p in photos]
    model.embed_images(paths[:batch])  # load + warm up
    print(f"provider: {model.providers['visual']}; {len(paths)} corpus JPEGs")

    from photodesk.ml.images import open_rgb

    images = [open_rgb(p, min_side=model.image_size) for p in paths]
    tensors = np.stack([model.preprocess(im) for im in images])
    with model.visual.use() as session:
        name = session.get_inputs()[0].name

        def bare() -> None:
            for start in range(0, len(tensors), batch):
                session.run(None, {name: tensors[start : start + batch]})

        bare_s, no_decode, pipeline = best_interleaved(
            [bare, lambda: model.embed_pil(images), lambda: model.embed_images(paths)], 3
        )
    n = len(paths)
    print(f"bare session.run on ready tensors : {n / bare_s:6.1f} img/s")
    print(
        f"embed_pil (preprocess + run)       : {n / no_decode:6.1f} img/s  "
        f"({bare_s / no_decode:.0%} of bare)"
    )
    print(
        f"embed_images (decode+EXIF+all)     : {n / pipeline:6.1f} img/s  "
        f"({bare_s / pipeline:.0%} of bare)"
    )
    model.embed_text(["warm up"])
    queries = ["beach at sunset", "dog in snow", "birthday cake", "a red car", "mountains"]
    trims = model.trims_text
    modes = [True, False] if trims else [False]
    for trim in modes:
        model.trims_text = trim
        per_query = [best(lambda q=q: model.embed_text([q]), 3) for q in queries]
        label = "text, tokens in use only" if trim else "text, padded to 77 (Immich)"
        print(f"{label:<35}: {statistics.median(per_query) * 1000:6.1f} ms per query")
    model.trims_text = trims


def bench_faces(n_images: int) -> None:
    from photodesk.ml.faces_dlib import DlibFaceAnalyzer, dlib_status

    print("\n== faces: dlib HOG + 5-point + ResNet descriptor ==")
    problem = dlib_status()
    if problem:
        print(f"skipped: {problem}")
        return
    analyzer = DlibFaceAnalyzer()
    photos = corpus_photos(n_images, with_people=True)
    analyzer.analyze(str(photos[0]))  # load models
    faces = 0

    def pipeline() -> None:
        nonlocal faces
        faces = sum(len(analyzer.analyze(str(p))) for p in photos)

    detector, predictor, recognizer = analyzer._load()
    from photodesk.ml.images import open_rgb

    arrays = [np.asarray(open_rgb(p, analyzer.max_side)) for p in photos]
    ups = [analyzer._upsample_for((a.shape[1], a.shape[0])) for a in arrays]

    def bare() -> None:
        for arr, up in zip(arrays, ups, strict=True):
            for rect in detector(arr, up):
                recognizer.compute_face_descriptor(arr, predictor(arr, rect), 1)

    bare_s, pipeline_s = best_interleaved([bare, pipeline], 3)
    print(f"{len(photos)} corpus photos with people, {faces} faces (images up to 1440 px)")
    print(f"bare dlib on decoded arrays        : {faces / bare_s:6.1f} faces/s")
    print(
        f"DlibFaceAnalyzer.analyze (all)     : {faces / pipeline_s:6.1f} faces/s  "
        f"({bare_s / pipeline_s:.0%} of bare), {len(photos) / pipeline_s:.1f} photos/s"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=32, help="corpus photos for CLIP")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--models", type=Path, default=None, help="folder with a ViT-B-32 pack")
    p.add_argument("--skip-search", action="store_true")
    args = p.parse_args(argv)
    if not (CORPUS / "MANIFEST.tsv").is_file():
        print(f"the corpus is missing at {CORPUS}")
        return 1
    pack = clip_pack(args.models)
    bench_clip(pack, args.images, args.batch)
    bench_faces(args.images)
    search = ROOT / "bench" / "search_bench.py"
    if search.is_file() and not args.skip_search:
        import importlib.util

        spec = importlib.util.spec_from_file_location("search_bench", search)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print("\n== smart search (bench/search_bench.py) ==")
        module.main(["--models", str(pack.parent)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
