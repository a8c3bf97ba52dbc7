"""TOTP rows (one per user) and single-use recovery code hashes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import UserRecoveryCode, UserTotp


@dataclass(frozen=True)
class TotpRow:
    secret: str
    enabled: bool
    enabled_at: datetime | None
    last_step: int | None


def get(s: Session, user_id: int) -> TotpRow | None:
    row = s.get(UserTotp, user_id)
    if row is None:
        return None
    return TotpRow(row.secret, bool(row.enabled), row.enabled_at, row.last_step)


def codes_left(s: Session, user_id: int) -> int:
    left = s.scalar(
        select(func.count())
        .select_from(UserRecoveryCode)
        .where(UserRecoveryCode.user_id == user_id, UserRecoveryCode.used_at.is_(None))
    )
    return int(left or 0)


def start(s: Session, user_id: int, secret: str, now: datetime) -> None:
    """A new (not yet enabled) secret for the user, replacing a pending one."""
    row = s.get(UserTotp, user_id)
    if row is None:
        s.add(UserTotp(user_id=user_id, secret=secret, enabled=False, created_at=now))
    else:
        row.secret, row.last_step, row.created_at = secret, None, now


def enable(s: Session, user_id: int, step: int, now: datetime) -> None:
    s.execute(
        update(UserTotp)
        .where(UserTotp.user_id == user_id)
        .values(enabled=True, enabled_at=now, last_step=step)
    )


def replace_codes(s: Session, user_id: int, code_hashes: Sequence[str], now: datetime) -> None:
    s.execute(delete(UserRecoveryCode).where(UserRecoveryCode.user_id == user_id))
    s.add_all(UserRecoveryCode(user_id=user_id, code_hash=h, created_at=now) for h in code_hashes)


def use_step(s: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as used unless a later or equal one was: of two racing logins with one
    code, one wins (a conditional update)."""
    done = s.execute(
        update(UserTotp)
        .where(
            UserTotp.user_id == user_id,
            (UserTotp.last_step.is_(None)) | (UserTotp.last_step < step),
        )
        .values(last_step=step)
    )
    return bool(getattr(done, "rowcount", 0))


def use_code(s: Session, user_id: int, code_hash: str, now: datetime) -> bool:
    """Use up an unused recovery code; False if there is none with this hash."""
    used = s.execute(
        update(UserRecoveryCode)
        .where(
            UserRecoveryCode.user_id == user_id,
            UserRecoveryCode.code_hash == code_hash,
            UserRecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(getattr(used, "rowcount", 0))


def remove(s: Session, user_id: int) -> None:
    """Forget the user's secret and recovery codes."""
    s.execute(delete(UserRecoveryCode).where(UserRecoveryCode.user_id == user_id))
    s.execute(delete(UserTotp).where(UserTotp.user_id == user_id))
