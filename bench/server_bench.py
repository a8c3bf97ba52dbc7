"""Daemon benchmarks on loopback: upload throughput, memory under parallel uploads, listing speed.

Usage: python bench/server_bench.py [--files 5] [--size-mb 100] [--rounds 3] [--clients 20]
                                    [--client-mb 200] [--assets 100000] [--seconds 5] [--dir DIR]

1. Uploads ``--files`` files of ``--size-mb`` through ``POST /api/assets`` (the Immich CLI's
   multipart upload, streamed, hashed, fsynced, analysed and imported), one after another, and
   writes the same bytes straight to the same disk (1 MiB writes + fsync): the upload should reach
   at least 70% of the direct write's throughput. The same number of files goes through WebDAV
   (``PUT /dav/NAME`` with an app password), which should reach 70% of the Immich route.
2. ``--clients`` clients upload ``--client-mb`` each at the same time, through each route in turn,
   while the server's resident memory (its own, and with its analysis workers) is sampled: it
   should stay flat, < 300 MB.
3. Gives one user ``--assets`` catalog rows (written through the library's writer, not uploaded)
   and measures requests per second for the first page and a deep page of
   ``GET /api/photodesk/assets`` (250 per page, 4 keep-alive clients), against the library call
   that serves it, made in-process in the same run (``--assets 0`` skips it).

The server is the real ``photodesk serve`` in a subprocess; files are valid JPEGs (a small photo
followed by random bytes), so each upload runs the whole import pipeline.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photodesk.core import AssetQuery, Library  # noqa: E402

MB = 1_000_000
CHUNK = 1 << 20
BOUNDARY = "----photodeskBench" + secrets.token_hex(8)
EMAIL = "bench@example.org"


def small_jpeg(seed: int) -> bytes:
    img = Image.new("RGB", (320, 240), (seed * 37 % 255, 120, 200 - seed % 200))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


class Payload:
    """A JPEG followed by ``size`` random bytes (shared), so every file is valid and distinct."""

    def __init__(self, seed: int, padding: memoryview) -> None:
        self.head = small_jpeg(seed)
        self.padding = padding
        self.size = len(self.head) + len(padding)

    def chunks(self):
        yield self.head
        for i in range(0, len(self.padding), CHUNK):
            yield self.padding[i : i + CHUNK]


def upload(url: str, key: str, payload: Payload, name: str) -> tuple[int, str]:
    """One ``POST /api/assets`` like the Immich CLI sends it, streamed from memory."""
    when = "2024-06-01T12:00:00.000Z"
    fields = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (("fileCreatedAt", when), ("fileModifiedAt", when),
                     ("fileSize", str(payload.size)), ("isFavorite", "false"))
    )  # fmt: skip
    pre = (
        fields + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="assetData"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    post = f"\r\n--{BOUNDARY}--\r\n".encode()
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        conn.putrequest("POST", "/api/assets")
        conn.putheader("x-api-key", key)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Content-Length", str(len(pre) + payload.size + len(post)))
        conn.endheaders()
        conn.send(pre)
        for chunk in payload.chunks():
            conn.send(chunk)
        conn.send(post)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def dav_put(url: str, email: str, key: str, payload: Payload, name: str) -> tuple[int, str]:
    """One WebDAV ``PUT /dav/NAME`` with Basic sign-in (an app password), streamed from memory."""
    import base64

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        conn.putrequest("PUT", f"/dav/{name}")
        token = base64.b64encode(f"{email}:{key}".encode()).decode()
        conn.putheader("Authorization", f"Basic {token}")
        conn.putheader("Content-Length", str(payload.size))
        conn.endheaders()
        for chunk in payload.chunks():
            conn.send(chunk)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def send(route: str, url: str, key: str, payload: Payload, name: str) -> tuple[int, str]:
    if route == "dav":
        return dav_put(url, EMAIL, key, payload, name)
    return upload(url, key, payload, name)


def _client(
    route: str, url: str, key: str, big: memoryview, n: int, i: int, results: list[int]
) -> None:
    results.append(send(route, url, key, Payload(1000 + 100 * n + i, big), f"par{n}_{i}.jpg")[0])


def direct_write(folder: Path, payload: Payload, name: str, *, sha1: bool = False) -> None:
    digest = hashlib.sha1(usedforsecurity=False)
    with open(folder / name, "wb", buffering=0) as fh:
        for chunk in payload.chunks():
            if sha1:
                digest.update(chunk)
            fh.write(chunk)
        os.fsync(fh.fileno())


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = []
        try:
            for tid in os.listdir(f"/proc/{p}/task"):  # children of every thread
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    kids += [int(x) for x in fh.read().split()]
        except OSError:
            pass
        found += kids
        todo += kids
    return found


class Sampler(threading.Thread):
    """Peak and per-second resident memory of the server (alone, and with its children)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_main = self.peak_total = 0
        self.series: list[int] = []
        self._halt = threading.Event()

    def run(self) -> None:
        last = 0.0
        while not self._halt.is_set():
            main = rss_kb(self.pid)
            total = main + sum(rss_kb(c) for c in descendants(self.pid))
            self.peak_main = max(self.peak_main, main)
            self.peak_total = max(self.peak_total, total)
            if time.monotonic() - last >= 1.0:
                self.series.append(main)
                last = time.monotonic()
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def start_server(lib_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "photodesk", "--library", str(lib_dir), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on " in line and "photodesk serve" in line:
            url = line.rsplit("listening on ", 1)[1].strip()
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, url
    raise SystemExit("photodesk serve did not start")


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def add_rows(lib: Library, owner: int, count: int) -> None:
    """``count`` asset rows with their original file rows, through the library's writer."""
    from sqlalchemy import insert

    from photodesk.core.catalog.db.schema import Asset, AssetFile

    start = datetime(2010, 1, 1)
    batch = 10_000
    for lo in range(0, count, batch):
        n = min(batch, count - lo)
        now = datetime.now()
        with lib.write() as s:
            ids = s.execute(
                insert(Asset.__table__).returning(Asset.__table__.c.id),
                [
                    {
                        "owner_id": owner, "checksum": f"{lo + i:040x}", "kind": "photo",
                        "file_type": "jpeg", "mime": "image/jpeg", "size": 3_000_000,
                        "width": 4000, "height": 3000,
                        "taken_at": start + timedelta(minutes=37 * (lo + i)),
                        "taken_month": None, "created_at": now, "updated_at": now,
                        "has_thumbnail": True, "rating": 0, "favorite": False,
                        "archived": False, "offline": False,
                    }
                    for i in range(n)
                ],
            ).scalars().all()  # fmt: skip
            s.execute(
                insert(AssetFile.__table__),
                [
                    {"asset_id": aid, "role": "original", "path": f"/photos/{aid}.jpg",
                     "size": 3_000_000, "mtime_ns": 0, "checksum": f"{lo + i:040x}",
                     "copied": False, "missing": False}
                    for i, aid in enumerate(ids)
                ],
            )  # fmt: skip


def rate(url: str, key: str, path: str, seconds: float, clients: int = 4) -> float:
    parts = urlsplit(url)
    done = [0] * clients
    end = time.monotonic() + seconds

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while time.monotonic() < end:
            conn.request("GET", path, headers={"x-api-key": key})
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, body[:200]
            done[k] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def library_rate(lib: Library, owner: int, offset: int, seconds: float) -> float:
    n, end = 0, time.monotonic() + seconds
    t0 = time.monotonic()
    while time.monotonic() < end:
        lib.accounts.readable_assets(owner, AssetQuery(limit=251), offset=offset)
        n += 1
    return n / (time.monotonic() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--client-mb", type=int, default=200)
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--dir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="photodesk-server-bench-", dir=args.dir))
    try:
        run(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, scratch: Path) -> None:
    lib_dir = scratch / "lib"
    with Library.open(lib_dir) as lib:
        uid = lib.accounts.add_user(EMAIL, None)
        key = lib.accounts.create_api_key(uid, "bench")
        lister = lib.accounts.add_user("lister@example.org", None)
        list_key = lib.accounts.create_api_key(lister, "bench")
    proc, url = start_server(lib_dir)
    try:
        # 1. throughput: upload vs direct write, same bytes, same disk
        padding = memoryview(os.urandom(args.size_mb * MB))
        warm = Payload(999, memoryview(b"\0" * 1000))  # starts the analysis workers
        assert upload(url, key, warm, "warm.jpg")[0] == 201
        direct_dir = scratch / "direct"
        best = {"direct": 0.0, "hashed": 0.0, "upload": 0.0, "dav": 0.0}
        for r in range(args.rounds):  # interleaved rounds, best of each: the machine is shared
            payloads = [Payload(r * 100 + i, padding) for i in range(args.files)]
            total = sum(p.size for p in payloads)
            for name in best:
                direct_dir.mkdir()
                t0 = time.perf_counter()
                for i, p in enumerate(payloads):
                    if name in ("upload", "dav"):
                        # the same bytes once per route: the second is a duplicate of the first
                        p = Payload(r * 100 + i + (50 if name == "dav" else 0), padding)
                        status, body = send(name, url, key, p, f"big{r}_{i}.jpg")
                        assert status == 201, (status, body)
                    else:
                        direct_write(direct_dir, p, f"d{i}.jpg", sha1=name == "hashed")
                best[name] = max(best[name], total / MB / (time.perf_counter() - t0))
                shutil.rmtree(direct_dir)
        direct_mbs, hashed_mbs, upload_mbs = best["direct"], best["hashed"], best["upload"]
        print(f"1. {args.files} x {args.size_mb} MB over loopback (best of {args.rounds} rounds)")
        print(f"   direct write + fsync        : {direct_mbs:7.1f} MB/s")
        print(f"   direct SHA-1 + write + fsync: {hashed_mbs:7.1f} MB/s  (what any upload must do)")
        print(f"   POST /api/assets            : {upload_mbs:7.1f} MB/s")
        print(f"   ratio to direct write       : {upload_mbs / direct_mbs:7.1%}   (target >= 70%)")
        print(f"   ratio to SHA-1 + write      : {upload_mbs / hashed_mbs:7.1%}")
        print(f"   WebDAV PUT /dav/            : {best['dav']:7.1f} MB/s")
        print(f"   WebDAV to POST /api/assets  : {best['dav'] / upload_mbs:7.1%}   (target >= 70%)")

        if args.clients <= 0:
            return
        # 2. memory while many clients upload at once, through each route
        big = memoryview(os.urandom(args.client_mb * MB))
        for n, route in enumerate(("upload", "dav")):
            sampler = Sampler(proc.pid)
            base = rss_kb(proc.pid)
            sampler.start()
            results: list[int] = []
            clients = [
                threading.Thread(target=_client, args=(route, url, key, big, n, i, results))
                for i in range(args.clients)
            ]
            t0 = time.perf_counter()
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            par_s = time.perf_counter() - t0
            sampler.stop()
            assert results.count(201) == args.clients, results
            mb = args.clients * args.client_mb
            what = "POST /api/assets" if route == "upload" else "WebDAV PUT"
            print(f"2{'ab'[n]}. {what}: {args.clients} clients x {args.client_mb} MB at once "
                  f"({mb} MB in {par_s:.1f} s, {mb / par_s:.1f} MB/s)")  # fmt: skip
            print(f"   server RSS before    : {base / 1024:7.1f} MB")
            print(
                f"   server RSS peak      : {sampler.peak_main / 1024:7.1f} MB   (target < 300 MB)"
            )
            print(f"   with analysis workers: {sampler.peak_total / 1024:7.1f} MB")
            print(f"   RSS each second (MB) : {[round(k / 1024) for k in sampler.series]}")

        if args.assets <= 0:
            return
        # 3. listing a big library
        with Library.open(lib_dir) as lib:
            t0 = time.perf_counter()
            add_rows(lib, lister, args.assets)
            rows_s = time.perf_counter() - t0
            deep = args.assets // 2
            lib_first = library_rate(lib, lister, 0, args.seconds)
            lib_deep = library_rate(lib, lister, deep, args.seconds)
        first = rate(url, list_key, "/api/photodesk/assets?limit=250", args.seconds)
        deep_rps = rate(url, list_key, f"/api/photodesk/assets?limit=250&offset={deep}",
                        args.seconds)  # fmt: skip
        page = json.loads(_get(url, list_key, "/api/photodesk/assets?limit=250"))
        assert len(page["items"]) == 250
        print(f"3. asset listing of a {args.assets}-asset user ({rows_s:.1f} s to add the rows)")
        print(f"   first page, HTTP     : {first:7.1f} req/s  (library call: {lib_first:.1f}/s, "
              f"ratio {first / lib_first:.0%})")  # fmt: skip
        print(f"   page at {deep}, HTTP : {deep_rps:7.1f} req/s  (library call: {lib_deep:.1f}/s, "
              f"ratio {deep_rps / lib_deep:.0%})")  # fmt: skip
    finally:
        stop_server(proc)


def _get(url: str, key: str, path: str) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("GET", path, headers={"x-api-key": key})
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def share_pages() -> None:
    """4. The public album page of the sharing issue (bench/share_bench.py, same loopback)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("share_bench", ROOT / "bench" / "share_bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("\n4. public album page (bench/share_bench.py)")
    module.main([])


if __name__ == "__main__":
    main()
    share_pages()
