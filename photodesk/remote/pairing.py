"""Pair a library with a server, report on it, unpair, and run a sync round over HTTP."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from photodesk.core import Conflict, InvalidInput, Library, NotFound
from photodesk.core.sync import Pairing, RemoteRefused, RemoteUnavailable, SyncReport, offline
from photodesk.core.sync.client import Progress
from photodesk.remote import credentials
from photodesk.remote.browser import WAIT_S, BrowserPairing
from photodesk.remote.http import REVOKED, HttpRemote, normalize_url

WORKER_SLOT = "worker"  # the worker token this desktop enrolled with (remote/assist.py)


def add(
    lib: Library,
    url: str,
    *,
    email: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    device: str | None = None,
    browser: Callable[[str], object] | None = None,
    browser_timeout: float = WAIT_S,
) -> Pairing:
    """Sign in (or take a key, or sign in in the browser), make a key for this device, and
    pair: the library's owner becomes the server account. ``browser`` opens a URL (e.g.
    ``webbrowser.open``): the server's sign-in page, which hands this device a key through a
    loopback listener (two factors, single sign-on). Raises RemoteRefused / RemoteUnavailable /
    InvalidInput."""
    if lib.sync.pairing() is not None:  # before any key is made or stored
        raise Conflict("this library is paired already: `photodesk remote remove` first")
    try:
        url = normalize_url(url)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    device = (device or platform.node() or "desktop").strip()
    remote = HttpRemote(url)
    if browser is not None:
        remote.ping()  # a server that is down fails here, before the browser opens
        attempt = BrowserPairing(remote, device)
        attempt.open(browser)
        key = attempt.wait(browser_timeout)
    elif api_key:
        key = api_key.strip()
    elif email and password is not None:
        token = remote.login(email, password)
        key = remote.create_device_key(token, device)
    else:
        raise InvalidInput("pair with --email EMAIL --password-stdin, or --api-key-stdin")
    remote.key = key
    account = remote.account()
    where = credentials.save(lib.root, url, key)
    try:
        return lib.sync.pair(url, account.user_id, account.email, account.name, device, keys=where)
    except Exception:
        credentials.delete(lib.root, url, where)
        raise


def remote_for(lib: Library) -> tuple[Pairing, HttpRemote]:
    pairing = lib.sync.pairing()
    if pairing is None:
        raise NotFound("this library is not paired: `photodesk remote add URL` first")
    key = credentials.load(lib.root, pairing.url, str(pairing.extra.get("keys", "file")))
    if key is None:
        raise RemoteRefused("auth", "the device key is missing here: `photodesk remote add` again")
    return pairing, HttpRemote(pairing.url, key)


def status(lib: Library, *, check: bool = True) -> dict[str, Any]:
    """What ``remote status --json`` prints: pairing, last sync, pending writes, errors."""
    pairing = lib.sync.pairing()
    if pairing is None:
        return {"paired": False}
    out: dict[str, Any] = {
        "paired": True,
        "server": pairing.url,
        "account": pairing.email,
        "user_id": pairing.user_id,
        "device": pairing.device,
        "paired_at": pairing.paired_at,
        "last_sync": pairing.last_sync,
        "pending": lib.sync.pending(),
        "key_store": pairing.extra.get("keys", "file"),
        "worker": lib.sync.worker_allowed(),
        "state": "unknown",
        "errors": [pairing.last_error] if pairing.last_error else [],
    }
    if check:
        try:
            _, remote = remote_for(lib)
            remote.head()
            out["state"] = "online"
        except RemoteUnavailable as exc:
            out["state"] = "offline"
            _add_error(out["errors"], f"offline: {exc}")
        except RemoteRefused as exc:
            out["state"] = "refused"
            _add_error(out["errors"], f"{exc.reason}: {exc}")
    return out


def _add_error(errors: list[str], error: str) -> None:
    """The check's error, unless the last round already recorded the same one."""
    if error not in errors:
        errors.append(error)


def remove(lib: Library) -> Pairing:
    pairing = lib.sync.pairing()
    if pairing is None:
        raise NotFound("this library is not paired")
    where = str(pairing.extra.get("keys", "file"))
    credentials.delete(lib.root, pairing.url, where)
    credentials.delete(lib.root, pairing.url, where, slot=WORKER_SLOT)
    lib.sync.unpair()
    return pairing


def attach(lib: Library) -> None:
    """Give the library's sync its HTTP transport and its worker for the server's ML jobs
    (the composition root calls this)."""
    from photodesk.remote.assist import work

    lib.sync.attach_remote(lambda: remote_for(lib)[1])
    lib.sync.attach_worker(lambda check: work(lib, check))


def sync(lib: Library, progress: Progress | None = None) -> SyncReport:
    attach(lib)
    return lib.sync.run_attached(progress)


def fetch_original(lib: Library, asset_id: int) -> Path:
    """Download the original of a remote-only asset into the library's originals/ folder."""
    _, remote = remote_for(lib)
    return offline.fetch_original(lib, remote, asset_id)


def pairing_json(pairing: Pairing) -> dict[str, Any]:
    data = asdict(pairing)
    data.pop("extra", None)
    return data


__all__ = ["REVOKED", "add", "attach", "fetch_original", "pairing_json", "remove", "status", "sync"]
