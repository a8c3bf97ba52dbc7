"""Drive an installed photodesk the way a user would; exit 0 only if every step works.

    python installers/smoke.py --program PATH/TO/photodesk [--serve] [--screenshot]
                               [--faces DIR_WITH_FACE_PHOTOS] [--work DIR]

Used by tests/test_wheel.py (a wheel installed in a fresh virtualenv) and by ``make bundle-test``
(the PyInstaller bundle). Steps: ``--version``; import of a few generated photos (``--json``);
``ls --json``; optionally ``serve`` on a free loopback port answering ``/api/server/ping`` and
``/api/health`` then a clean SIGTERM stop, ``gui --screenshot`` offscreen, and a faces run
(``import`` + ``index --faces --until-idle`` + ``people faces``). Each step prints one line with
its wall time. The program runs with a clean environment: no PYTHONPATH, a scratch HOME, and
``cwd`` in the work folder, so nothing from a source checkout can leak in.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PHOTOS = 4


class SmokeError(Exception):
    pass


def make_photos(folder: Path, count: int = PHOTOS) -> list[Path]:
    """Small JPEGs with distinct pixels and an EXIF capture date (Pillow only)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        img = Image.new("RGB", (160, 120), (30 + 50 * i, 120, 200 - 40 * i))
        ImageDraw.Draw(img).ellipse((20 + 10 * i, 20, 90 + 10 * i, 90), fill=(250, 220, 60))
        exif = Image.Exif()
        exif[0x0110] = "Smoke Camera"  # Model
        exif.get_ifd(0x8769)[0x9003] = f"2024:05:0{i + 1} 12:00:00"  # DateTimeOriginal
        path = folder / f"smoke_{i}.jpg"
        img.save(path, "JPEG", quality=85, exif=exif)
        out.append(path)
    return out


class Runner:
    def __init__(self, program: list[str], work: Path, env: dict[str, str]) -> None:
        self.program = program
        self.work = work
        self.env = env
        self.timings: dict[str, float] = {}

    def run(self, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        start = time.perf_counter()
        proc = subprocess.run(
            [*self.program, *args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        elapsed = time.perf_counter() - start
        self.timings[name] = elapsed
        if proc.returncode != 0:
            raise SmokeError(
                f"{name}: exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}"
                f"\n--- stderr\n{proc.stderr[-3000:]}"
            )
        print(f"ok  {name:<12} {elapsed:6.2f} s", flush=True)
        return proc


def clean_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "CI")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        QT_QPA_PLATFORM="offscreen",
        PYTHONNOUSERSITE="1",
    )
    return env


def check_version(r: Runner, expected: str | None) -> str:
    out = r.run("--version", "--version").stdout.strip()
    if not re.fullmatch(r"photodesk \d+\.\d+\.\d+\S*", out):
        raise SmokeError(f"--version printed {out!r}")
    if expected and out != f"photodesk {expected}":
        raise SmokeError(f"--version printed {out!r}, expected 'photodesk {expected}'")
    return out


def check_import_and_ls(r: Runner, library: Path, photos: Path, count: int) -> None:
    out = r.run("import", "--library", str(library), "import", str(photos), "--json").stdout
    report = json.loads(out)
    if report.get("imported") != count or report.get("failed"):
        raise SmokeError(f"import: expected {count} imported, got {report}")
    assets = json.loads(r.run("ls --json", "--library", str(library), "ls", "--json").stdout)
    if len(assets) != count or any(a.get("model") != "Smoke Camera" for a in assets):
        raise SmokeError(f"ls --json: expected {count} assets by 'Smoke Camera', got {assets}")


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
        return int(response.status), response.read()


def check_serve(r: Runner, library: Path, timeout: float = 90) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*r.program, "--library", str(library), "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=r.work,
        env=r.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if m := re.search(r"listening on (http://\S+)", line):
                url = m.group(1).rstrip("/")
                break
        if url is None:
            proc.kill()
            raise SmokeError(f"serve: never said where it listens\n{proc.stderr.read()[-3000:]}")
        status, body = _get(f"{url}/api/server/ping")
        if status != 200 or json.loads(body) != {"res": "pong"}:
            raise SmokeError(f"serve: /api/server/ping answered {status} {body!r}")
        status, body = _get(f"{url}/api/health")
        if status != 200:
            raise SmokeError(f"serve: /api/health answered {status} {body!r}")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=70)
        if code != 0:
            raise SmokeError(f"serve: exit {code} after SIGTERM\n{proc.stderr.read()[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r.timings["serve"] = time.perf_counter() - start
    print(f"ok  {'serve':<12} {r.timings['serve']:6.2f} s  ({url}/api/server/ping)", flush=True)


def check_screenshot(r: Runner, library: Path) -> None:
    from PIL import Image

    out = r.work / "timeline.png"
    r.run(
        "screenshot",
        "--library",
        str(library),
        "gui",
        "--screenshot",
        str(out),
        "--size",
        "900x600",
    )
    with Image.open(out) as img:
        if img.size != (900, 600):
            raise SmokeError(f"screenshot: {img.size}, expected 900x600")
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000) or []
        if len(colours) < 50:
            raise SmokeError(f"screenshot: only {len(colours)} colours: an empty window?")


def check_faces(r: Runner, library: Path, faces: Path) -> None:
    report = json.loads(
        r.run("import faces", "--library", str(library), "import", str(faces), "--json").stdout
    )
    if not report.get("imported"):
        raise SmokeError(f"import faces: nothing imported: {report}")
    r.run("index faces", "--library", str(library), "index", "--faces", "--until-idle", timeout=900)
    people = json.loads(
        r.run("people", "--library", str(library), "people", "--json", "--all").stdout
    )
    total = sum(int(p.get("faces", 0)) for p in people)
    if not people or total < 1:
        raise SmokeError(f"faces: no person found in {faces}: {people}")
    print(f"    {len(people)} people, {total} faces", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", required=True, help="the photodesk executable (or a command)")
    parser.add_argument("--version", dest="expected_version", help="the version it must print")
    parser.add_argument("--serve", action="store_true", help="also run the server")
    parser.add_argument("--screenshot", action="store_true", help="also render the GUI offscreen")
    parser.add_argument("--faces", metavar="DIR", help="also find faces in these photos")
    parser.add_argument("--work", metavar="DIR", help="scratch folder (default: a temp folder)")
    args = parser.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="photodesk-smoke-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    program = args.program.split() if " " in args.program else [args.program]
    runner = Runner(program, work, clean_env(work / "home"))
    library = work / "library"
    try:
        print(check_version(runner, args.expected_version))
        photos = make_photos(work / "photos")
        check_import_and_ls(runner, library, work / "photos", len(photos))
        if args.serve:
            check_serve(runner, library)
        if args.screenshot:
            check_screenshot(runner, library)
        if args.faces:
            check_faces(runner, work / "faces-library", Path(args.faces))
    except (SmokeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(
        "smoke: all steps passed: " + ", ".join(f"{k} {v:.2f} s" for k, v in runner.timings.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
