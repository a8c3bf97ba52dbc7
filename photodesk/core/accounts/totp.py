"""TOTP two-factor sign-in (RFC 6238, SHA-1, 30 s steps) and single-use recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from photodesk.core.catalog.db import two_factor as totp_repo
from photodesk.core.catalog.db import users as user_repo
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

STEP_S = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now (clock drift of the phone)
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
RECOVERY_CODES = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
Clock = Callable[[], float]


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    text = secret.strip().replace(" ", "").upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("the TOTP secret is not base32") from exc


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 HOTP value of ``counter`` (HMAC-SHA1, dynamic truncation)."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(when: float) -> int:
    return int(when // STEP_S)


def code_at(secret: str, when: float, digits: int = DIGITS) -> str:
    """The TOTP code an authenticator app shows at unix time ``when``."""
    return hotp(_key(secret), step_at(when), digits)


def match_step(secret: str, code: str, when: float, *, after: int | None = None) -> int | None:
    """The time step (within +-WINDOW of ``when``) whose code is ``code``, if any.

    Steps at or before ``after`` (the last step used) never match: a code works once.
    """
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key, now = _key(secret), step_at(when)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def otpauth_uri(secret: str, account: str, issuer: str = "photodesk") -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans (as a QR code) or takes."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
         "period": STEP_S}
    )  # fmt: skip
    return f"otpauth://totp/{label}?{query}"


def _recovery_code() -> str:
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))  # ~49 bits
    return f"{chars[:5]}-{chars[5:]}"


def _hash_code(code: str) -> str:
    # Random codes with ~49 bits, tried under the login rate limit: SHA-256 is enough.
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()


@dataclass(frozen=True)
class TotpSetup:
    """A started enrolment: the secret to show once (as text and as an otpauth URI)."""

    secret: str
    uri: str


@dataclass(frozen=True)
class TotpStatus:
    enabled: bool
    recovery_codes_left: int
    enabled_at: datetime | None


class TotpService:
    """``lib.accounts.totp``: enrol, check and remove a user's second factor."""

    def __init__(self, store: Store, clock: Clock = time.time) -> None:
        self._store = store
        self.clock = clock

    def status(self, user_id: int) -> TotpStatus:
        with self._store.read() as s:
            row = totp_repo.get(s, user_id)
            enabled = row is not None and row.enabled
            left = totp_repo.codes_left(s, user_id) if enabled else 0
        return TotpStatus(
            enabled=enabled,
            recovery_codes_left=left,
            enabled_at=row.enabled_at if row is not None and enabled else None,
        )

    def is_enabled(self, user_id: int) -> bool:
        with self._store.read() as s:
            row = totp_repo.get(s, user_id)
        return row is not None and row.enabled

    def begin(self, user_id: int, issuer: str = "photodesk") -> TotpSetup:
        """Start enrolment with a new secret; two-factor is on only after ``confirm``."""
        secret = new_secret()
        with self._store.write() as s:
            user = user_repo.get(s, user_id)
            if user is None:
                raise NotFound(f"no user with id {user_id}")
            row = totp_repo.get(s, user_id)
            if row is not None and row.enabled:
                raise Conflict("two-factor sign-in is already on; turn it off first")
            totp_repo.start(s, user_id, secret, datetime.now())
        return TotpSetup(secret=secret, uri=otpauth_uri(secret, user.email, issuer))

    def confirm(self, user_id: int, code: str) -> list[str]:
        """Turn two-factor on once the app shows the right code; returns the recovery codes.

        The codes are shown this once: only their hashes are kept.
        """
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        now = datetime.now()
        with self._store.write() as s:
            row = totp_repo.get(s, user_id)
            if row is None:
                raise InvalidInput("start two-factor enrolment first")
            if row.enabled:
                raise Conflict("two-factor sign-in is already on")
            step = match_step(row.secret, code, self.clock())
            if step is None:
                raise InvalidInput("that code is not right; check the phone's clock and try again")
            totp_repo.enable(s, user_id, step, now)
            totp_repo.replace_codes(s, user_id, [_hash_code(c) for c in codes], now)
        return codes

    def verify(self, user_id: int, code: str) -> bool:
        """Check a TOTP code (each step once) or an unused recovery code (then used up)."""
        if not isinstance(code, str) or not code.strip() or len(code) > 64:
            return False
        digits = code.strip().replace(" ", "")
        with self._store.write() as s:
            row = totp_repo.get(s, user_id)
            if row is None or not row.enabled:
                return False
            if digits.isdigit() and len(digits) == DIGITS:  # else: a recovery code
                step = match_step(row.secret, digits, self.clock(), after=row.last_step)
                if step is None:
                    return False
                return totp_repo.use_step(s, user_id, step)
            return totp_repo.use_code(s, user_id, _hash_code(code), datetime.now())

    def new_recovery_codes(self, user_id: int) -> list[str]:
        """Replace the recovery codes (the old ones stop working); shown once."""
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        now = datetime.now()
        with self._store.write() as s:
            row = totp_repo.get(s, user_id)
            if row is None or not row.enabled:
                raise InvalidInput("two-factor sign-in is off")
            totp_repo.replace_codes(s, user_id, [_hash_code(c) for c in codes], now)
        return codes

    def disable(self, user_id: int) -> bool:
        """Turn two-factor off (and forget the secret and codes); False if it was off."""
        with self._store.write() as s:
            if not user_repo.exists(s, user_id):
                raise NotFound(f"no user with id {user_id}")
            row = totp_repo.get(s, user_id)
            totp_repo.remove(s, user_id)
        return row is not None and row.enabled
