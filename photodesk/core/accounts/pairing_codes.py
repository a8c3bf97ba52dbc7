"""Browser pairing codes: "Allow" on the server's page makes one for the account, the desktop
spends it once with the verifier of its challenge (docs/sync.md, "Pairing in the browser").

Codes are kept in the catalog, hashed (SHA-256: they are random), for five minutes, so a daemon
restarted while the browser and the desktop talk still honours them; each works once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import pairing_codes as repo
from photodesk.core.catalog.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

CODE_TTL_S = 300.0
MAX_CODES = 1000  # live codes at once (a flood of "Allow" cannot fill the catalog)


@dataclass(frozen=True)
class PairingClaim:
    user_id: int
    device: str


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class PairingCodes:
    """``lib.accounts.pairing_codes``."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = datetime.now) -> None:
        self._store = store
        self.clock = clock

    def issue(self, user_id: int, device: str, challenge: str) -> str:
        """A new one-shot code for the account and device (Conflict when too many are live)."""
        now = self.clock()
        code = secrets.token_urlsafe(32)
        with self._store.write() as s:
            repo.forget_expired(s, now)
            if repo.live(s) >= MAX_CODES:
                raise Conflict("too many pairings at once; try later")
            expires = now + timedelta(seconds=CODE_TTL_S)
            repo.add(s, _hash(code), int(user_id), device[:200], challenge, expires)
        return code

    def claim(self, code: str, verifier: str) -> PairingClaim:
        """Spend the code (on the first try, whatever the verifier): the account and device if
        the verifier's SHA-256 is the challenge. InvalidInput (one line) otherwise."""
        with self._store.write() as s:
            found = repo.take(s, _hash(code))
        if found is None or found[3] < self.clock():
            raise InvalidInput("this pairing code is unknown, used or expired: start again")
        user_id, device, challenge, _ = found
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not secrets.compare_digest(expected, challenge):
            raise InvalidInput("the verifier does not match this pairing: start again")
        return PairingClaim(user_id, device)
