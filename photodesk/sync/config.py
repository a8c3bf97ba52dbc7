"""Server settings: defaults < a TOML file < PHOTODESK_* variables < command-line flags."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from photodesk.core import InvalidInput, LibraryOptions

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORT = 8470
ENV_PREFIX = "PHOTODESK_"
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``photodesk serve`` can be told; the defaults are safe (localhost only)."""

    library: Path | None = None  # None: --library, PHOTODESK_LIBRARY or the user data folder
    storage_root: Path | None = None  # None: the library's originals/ folder
    database: str | None = None  # postgresql://...: the catalog's database (None: SQLite)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str | None = None  # e.g. https://photos.example.org (for links and CSRF checks)
    max_upload_bytes: int = 64 * 1024 * MiB  # one file
    max_json_bytes: int = 16 * MiB  # a JSON request body
    max_pixels: int = 120_000_000  # pictures with more are refused at upload and not decoded
    decode_workers: int = 2  # pictures decoded at once for thumbnails and metadata-free copies
    trusted_proxies: tuple[Network, ...] = ()
    log_format: str = "text"  # text | json
    access_log: bool = True
    session_days: int = 30
    login_attempts: int = 5  # failed logins per email and address ...
    login_window_s: float = 900.0  # ... within this many seconds, then 429
    shutdown_timeout_s: float = 60.0  # in-flight requests get this long on SIGTERM
    header_timeout_s: float = 20.0  # to send a request head (and keep-alive idle time)
    max_connections: int = 1000  # open at once (lowered to fit the open-file limit); then 503
    max_header_bytes: int = 8190
    cookie_name: str = "photodesk_session"
    jobs: bool = True  # run the job engine inside the daemon
    local_ml: bool = True  # False: leave clip and faces jobs to remote workers (photodesk worker)
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown TOML sections for others

    def library_options(self) -> LibraryOptions:
        """How the server's library is opened (uploads under ``storage_root``; catalog readers
        with bounded memory)."""
        return LibraryOptions(upload_storage_root=self.storage_root, bounded_readers=True)

    @property
    def public_origin(self) -> str | None:
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def is_trusted_proxy(self, address: str | None) -> bool:
        if not address or not self.trusted_proxies:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_proxies)


def _networks(value: Any) -> tuple[Network, ...]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    nets = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise InvalidInput(f"trusted_proxies: not an address or network: {text!r}") from exc
    return tuple(nets)


def parse_bool(value: Any, label: str = "") -> bool:
    """A yes/no setting from TOML (a bool) or the environment (1/true/yes/on, 0/false/no/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"{label + ': ' if label else ''}not a yes/no value: {value!r}")


def _convert(name: str, value: Any) -> Any:
    """One setting from TOML or the environment, checked and typed."""
    try:
        if name in ("library", "storage_root"):
            return Path(str(value)).expanduser() if value not in (None, "") else None
        if name in ("port", "session_days", "login_attempts", "max_header_bytes"):
            number = int(value)
            if number < 0 or (name == "port" and number > 65535):
                raise ValueError
            return number
        if name in (
            "max_upload_bytes",
            "max_json_bytes",
            "max_pixels",
            "decode_workers",
            "max_connections",
        ):
            number = int(value)
            if number <= 0:
                raise ValueError
            return number
        if name in ("login_window_s", "shutdown_timeout_s", "header_timeout_s"):
            seconds = float(value)
            if seconds < 0 or (seconds == 0 and name == "header_timeout_s"):
                raise ValueError
            return seconds
        if name in ("access_log", "jobs", "local_ml"):
            return parse_bool(value)
        if name == "trusted_proxies":
            return _networks(value)
        if name == "log_format":
            text = str(value).lower()
            if text not in ("text", "json"):
                raise ValueError
            return text
        if name == "database":
            if not value:
                return None
            text = str(value).strip()
            if text.split("://", 1)[0].lower() not in ("postgresql", "postgres"):
                raise ValueError
            return text
        if name == "public_url":
            if not value:
                return None
            text = str(value).rstrip("/")
            if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc:
                raise ValueError
            return text
        return str(value)
    except (TypeError, ValueError) as exc:
        if name == "database":  # never echo a URL that may hold a password
            raise InvalidInput("bad server setting database: use postgresql://...") from exc
        raise InvalidInput(f"bad server setting {name} = {value!r}") from exc


_NAMES = {f.name for f in fields(ServerConfig)} - {"extra"}
# Handier spellings accepted in the file and the environment.
_ALIASES = {
    "max_upload_mb": ("max_upload_bytes", MiB),
    "bind": ("host", 1),
    "database_url": ("database", 1),  # PHOTODESK_DATABASE_URL
}


def _apply(values: dict[str, Any], key: str, value: Any, where: str) -> None:
    key = key.lower().replace("-", "_")
    if key in _ALIASES:
        target, scale = _ALIASES[key]
        values[target] = (
            _convert(target, int(float(value) * scale)) if scale != 1 else _convert(target, value)
        )
        return
    if key not in _NAMES:
        raise InvalidInput(f"{where}: unknown server setting {key!r}")
    values[key] = _convert(key, value)


def load_config(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> ServerConfig:
    """The settings: defaults < TOML file (its [server] table or top level) < env < overrides."""
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if path is not None:
        path = Path(path).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(f"cannot read the config file {path}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the config file {path} is not valid TOML: {exc}") from exc
        table = data.get("server", data)
        for key, value in table.items():
            if isinstance(value, dict):
                extra[key] = value
                continue
            _apply(values, key, value, str(path))
        if "server" in data:
            extra.update({k: v for k, v in data.items() if k != "server"})
        jobs_table = data.get("jobs")
        if isinstance(jobs_table, dict) and "local_ml" in jobs_table:  # [jobs] local_ml = false
            _apply(values, "local_ml", jobs_table["local_ml"], str(path))
    env = os.environ if env is None else env
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in _NAMES or name in _ALIASES:
            _apply(values, name, value, key)
    for key, value in overrides.items():
        if value is not None:
            _apply(values, key, value, "command line")
    if path is not None and values.get("library") is not None:
        lib = values["library"]
        if not lib.is_absolute():
            values["library"] = (Path(path).parent / lib).resolve()
    return replace(ServerConfig(extra=extra), **values)
