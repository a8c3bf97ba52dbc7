"""One-shot codes of browser pairings (docs/sync.md, "Pairing in the browser"): only a code's
SHA-256 is kept, with the account, the device name, the challenge and when it expires, so a
daemon restarted between "Allow" and the desktop's claim still honours it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from photodesk.core.catalog.db.schema import Base


class PairingCode(Base):
    __tablename__ = "device_pairing_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(String(200))
    challenge: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


def forget_expired(s: Session, now: datetime) -> None:
    s.execute(delete(PairingCode).where(PairingCode.expires_at < now))


def live(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(PairingCode)) or 0)


def add(
    s: Session, code_hash: str, user_id: int, device: str, challenge: str, expires: datetime
) -> None:
    s.add(PairingCode(code_hash=code_hash, user_id=user_id, device=device, challenge=challenge,
                      expires_at=expires))  # fmt: skip


def take(s: Session, code_hash: str) -> tuple[int, str, str, datetime] | None:
    """(user id, device, challenge, expiry) of the code, which is gone afterwards (one try)."""
    row = s.get(PairingCode, code_hash)
    if row is None:
        return None
    found = (row.user_id, row.device, row.challenge, row.expires_at)
    # the delete decides: of two claims racing on two connections, one deletes the row
    gone = s.execute(delete(PairingCode).where(PairingCode.code_hash == code_hash))
    return found if getattr(gone, "rowcount", 1) == 1 else None
