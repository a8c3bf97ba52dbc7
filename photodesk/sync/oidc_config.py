"""The ``[oidc]`` section of the daemon's TOML file: sign-in through an OpenID provider."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from photodesk.core import InvalidInput
from photodesk.sync.config import ServerConfig, parse_bool

ENV_PREFIX = "PHOTODESK_OIDC_"
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


@dataclass(frozen=True)
class OidcSettings:
    """How photodesk talks to the provider; sign-in with it is on when ``issuer`` is set."""

    issuer: str
    client_id: str
    client_secret: str = ""  # empty: a public client (PKCE only)
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    username_claim: str = "name"  # the display name of the user
    quota_claim: str = "photodesk_quota"  # storage quota; absent claim: quota left alone
    quota_unit: str = "GiB"  # what a bare number in the quota claim counts
    auto_register: bool = False  # create accounts for unknown verified emails
    button_label: str = "OpenID"  # "Sign in with <button_label>"
    disable_password_login: bool = False
    redirect_uri: str = ""  # default: <public_url or this server>/auth/oidc/callback
    clock_skew_s: int = 60  # leeway for exp/iat
    timeout_s: float = 15.0  # each request to the provider
    login_ttl_s: int = 600  # how long a started sign-in may take at the provider

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


OIDC_SETTINGS = web.AppKey("oidc_settings", OidcSettings)


def _bool(value: Any, name: str) -> bool:
    return parse_bool(value, f"[oidc] {name}")


def _url(value: Any, name: str) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(f"[oidc] {name}: not an http(s) URL: {value!r}")
    return text


def parse_oidc(table: Any, env: dict[str, str] | None = None) -> OidcSettings | None:
    """Settings from the TOML ``[oidc]`` table and PHOTODESK_OIDC_* variables; None: off."""
    values: dict[str, Any] = dict(table) if isinstance(table, dict) else {}
    if table is not None and not isinstance(table, dict):
        raise InvalidInput("[oidc] must be a table")
    environ = os.environ if env is None else env
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            values[key[len(ENV_PREFIX) :].lower()] = value
    secret_file = values.pop("client_secret_file", None)
    if secret_file:
        try:
            values["client_secret"] = Path(str(secret_file)).expanduser().read_text().strip()
        except OSError as exc:
            raise InvalidInput(f"[oidc] cannot read client_secret_file: {exc}") from exc
    if not _bool(values.pop("enabled", True), "enabled") or not values:
        return None
    if not values.get("issuer"):
        raise InvalidInput("[oidc] needs an issuer URL (or remove the section)")
    known = {f.name for f in fields(OidcSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidInput(f"[oidc] unknown setting {unknown[0]!r}")
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("issuer", "redirect_uri"):
            out[name] = _url(value, name) if value else ""
        elif name in ("auto_register", "disable_password_login"):
            out[name] = _bool(value, name)
        elif name == "scopes":
            items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
            scopes = tuple(dict.fromkeys(str(s).strip() for s in items if str(s).strip()))
            out[name] = scopes if "openid" in scopes else ("openid", *scopes)
        elif name in ("clock_skew_s", "login_ttl_s"):
            try:
                out[name] = int(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"[oidc] {name}: not a whole number: {value!r}") from None
            if out[name] < 0:
                raise InvalidInput(f"[oidc] {name} cannot be negative")
        elif name == "timeout_s":
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"[oidc] {name}: not a number: {value!r}") from None
            if not 0 < out[name] <= 300:
                raise InvalidInput(f"[oidc] {name} must be between 0 and 300 seconds")
        elif name == "quota_unit":
            parse_quota(1, str(value))  # checks the unit
            out[name] = str(value)
        else:
            out[name] = str(value).strip()
    if not out.get("client_id"):
        raise InvalidInput("[oidc] needs client_id")
    return OidcSettings(**out)


def settings_for(config: ServerConfig) -> OidcSettings | None:
    return parse_oidc(config.extra.get("oidc"))


def parse_quota(value: Any, unit: str = "GiB") -> int | None:
    """Bytes from a quota claim: a number counts ``unit``s; "500 GB", "1.5TiB" carry their own.

    None, "", "none" or "unlimited" mean no quota.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in
                         ("", "none", "unlimited")):  # fmt: skip
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"not a storage quota: {value!r}")
    if isinstance(value, (int, float)) or (isinstance(value, str) and _number(value)):
        text = f"{value} {unit}"
    else:
        text = str(value)
    m = _SIZE_RE.match(text)
    if not m:
        raise InvalidInput(f"not a storage quota: {value!r} (e.g. 500 GB, 1.5 TiB, or a number)")
    base = 1024 if m.group(3) or not m.group(2) else 1000
    size = float(m.group(1)) * base ** _POWERS[m.group(2).lower()]
    if size < 0 or size > 2**62:
        raise InvalidInput(f"not a storage quota: {value!r}")
    return int(size)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def password_login_refusal(app: web.Application) -> str | None:
    """Why password sign-in is refused on this server (OIDC only), or None when it is allowed."""
    settings = app.get(OIDC_SETTINGS)
    if settings is not None and settings.disable_password_login:
        return (
            f"password sign-in is turned off on this server; sign in with {settings.button_label}"
        )
    return None
