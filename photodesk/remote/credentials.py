"""Where a device key is kept: the system keyring when one works, else a 0600 file in the library
folder; never in the catalog (a copied catalog must not carry the key)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
SERVICE = "photodesk"
KEY_FILE = "remote.key"
ENV = "PHOTODESK_KEYRING"  # "off": always the file (tests, headless boxes)


def _user(root: Path, url: str, slot: str = "") -> str:
    return f"{root}::{url}" + (f"::{slot}" if slot else "")


def _file(root: Path, slot: str) -> Path:
    """``remote.key`` (the device key), ``remote-worker.key`` (slot "worker": a worker token)."""
    return root / (f"remote-{slot}.key" if slot else KEY_FILE)


def _keyring():  # type: ignore[no-untyped-def]
    if os.environ.get(ENV, "").lower() in ("off", "0", "no", "file"):
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def save(root: Path, url: str, key: str, slot: str = "") -> str:
    """Store the key; returns where it went ("keyring" or "file")."""
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(SERVICE, _user(root, url, slot), key)
            _file(root, slot).unlink(missing_ok=True)
            return "keyring"
        except Exception as exc:  # no D-Bus session, locked keychain...
            log.info("keyring unusable (%s); keeping the device key in a 0600 file", exc)
    path = _file(root, slot)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return "file"


def load(root: Path, url: str, where: str, slot: str = "") -> str | None:
    if where == "keyring":
        ring = _keyring()
        if ring is None:
            return None
        try:
            found = ring.get_password(SERVICE, _user(root, url, slot))
            return str(found) if found else None
        except Exception:
            return None
    try:
        return _file(root, slot).read_text().strip() or None
    except OSError:
        return None


def delete(root: Path, url: str, where: str, slot: str = "") -> None:
    if where == "keyring":
        ring = _keyring()
        if ring is not None:
            try:
                ring.delete_password(SERVICE, _user(root, url, slot))
            except Exception:
                pass
    _file(root, slot).unlink(missing_ok=True)
