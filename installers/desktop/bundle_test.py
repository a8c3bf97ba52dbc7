"""``make bundle-test``: drive the bundled program, then time it against ``python -m photodesk``.

    python installers/desktop/bundle_test.py dist/photodesk [CORPUS_DIR | none]

Runs installers/smoke.py on the bundle: ``--version``, an import of generated photos, ``ls --json``,
``serve`` answering ``/api/server/ping``, ``gui --screenshot`` offscreen, and a faces run (dlib) on
the corpus's face photos (``facerec__*``, from ../shared/corpus by default; ``none`` skips the
faces run, for release runners without the corpus). Then prints the bundle
size and start-up times of the bundle and of ``python -m photodesk`` from this interpreter's venv:
``--version`` (process start and imports) and ``gui --screenshot`` (first window drawn to a PNG,
which includes the screenshot's fixed ~1.3 s wait for the window to settle). The first run of each
is the cold one (files not yet in the page cache for the bundle); then the median of four, the
two programs taking turns so that a busy machine slows both alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
import smoke  # noqa: E402

FACE_PHOTOS = (
    "facerec__obama.jpg",
    "facerec__obama2.jpg",
    "facerec__obama-480p.jpg",
    "facerec__obama_small.jpg",
    "facerec__biden.jpg",
)


def bundled_program(dist: Path) -> Path:
    for candidate in (
        dist / "photodesk",
        dist / "photodesk.exe",
        dist / "Contents" / "MacOS" / "photodesk",
        dist.parent / "photodesk.app" / "Contents" / "MacOS" / "photodesk",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(f"bundle_test: no bundled photodesk in {dist} (run `make bundle` first)")


def size_mb(folder: Path) -> float:
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode:
        raise smoke.SmokeError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def startup_times(
    programs: dict[str, tuple[list[str], dict[str, str]]],
    library: Path,
    work: Path,
    rounds: int = 5,
) -> dict[str, dict[str, list[float]]]:
    """Start-up times of each program, interleaved round by round (a busy machine slows both)."""
    shot = work / "start.png"
    out: dict[str, dict[str, list[float]]] = {}
    for name, args in (
        ("--version", ["--version"]),
        ("gui --screenshot", ["--library", str(library), "gui", "--screenshot", str(shot)]),
    ):
        out[name] = {label: [] for label in programs}
        for _ in range(rounds):
            for label, (program, env) in programs.items():
                out[name][label].append(timed([*program, *args], env, work))
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    dist = Path(argv[0]).resolve()
    corpus_arg = argv[1] if len(argv) > 1 else str(REPO / ".." / "shared" / "corpus")
    corpus = Path(corpus_arg).resolve()
    program = bundled_program(dist)
    work = Path(tempfile.mkdtemp(prefix="photodesk-bundle-test-"))
    try:
        faces = work / "faces"
        faces.mkdir()
        for name in FACE_PHOTOS:
            if not (corpus / name).is_file():
                print(f"bundle_test: {corpus / name} is missing (pass the corpus folder)")
                return 2
            shutil.copy2(corpus / name, faces / name)
        code = smoke.main(
            [
                "--program",
                str(program),
                "--serve",
                "--screenshot",
                "--faces",
                str(faces),
                "--work",
                str(work / "smoke"),
            ]
        )
        if code:
            return code

        env = smoke.clean_env(work / "home")
        library = work / "smoke" / "library"
        programs = {
            "bundle": ([str(program)], env),
            "venv": ([sys.executable, "-m", "photodesk"], dict(env, PYTHONPATH=str(REPO))),
        }
        try:
            times = startup_times(programs, library, work)
        except (smoke.SmokeError, subprocess.TimeoutExpired) as exc:
            print(f"FAIL {exc}")
            return 1
        print(f"\nbundle: {program} ({size_mb(dist):.0f} MB on disk)")
        print(
            f"{'start-up (s)':<18} {'bundle first':>13} {'bundle median':>14} "
            f"{'venv first':>11} {'venv median':>12}"
        )
        for name, by in times.items():
            b, v = by["bundle"], by["venv"]
            print(
                f"{name:<18} {b[0]:13.2f} {statistics.median(b[1:]):14.2f} "
                f"{v[0]:11.2f} {statistics.median(v[1:]):12.2f}"
            )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
