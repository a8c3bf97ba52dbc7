"""Login sessions and API keys: found by their secret's hash, last-used stamps that lag a little,
sessions that slide forward while used and end when they expire or are revoked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from photodesk.core.catalog.db.schema import ApiKey, UserSession


def _session_row(lib: Any) -> Any:
    """(last seen, expires) of the one session."""
    with lib.read() as s:
        return s.execute(select(UserSession.last_seen_at, UserSession.expires_at)).one()


def _age_session(lib: Any, seen: timedelta, expires_in: timedelta) -> None:
    now = datetime.now()
    with lib.store.write() as s:
        s.execute(update(UserSession).values(last_seen_at=now - seen, expires_at=now + expires_in))


def test_session_slides_forward_only_when_stale(library: Any) -> None:
    lib = library
    uid = lib.accounts.add_user("ann@example.org", None)
    token = lib.accounts.create_session(uid, days=30)
    assert lib.accounts.resolve_session(token).id == uid

    # Seen a minute ago: no write, the expiry stays where it was.
    _age_session(lib, timedelta(minutes=1), timedelta(days=1))
    before = _session_row(lib)
    assert lib.accounts.resolve_session(token).id == uid
    assert _session_row(lib).expires_at == before.expires_at

    # Seen an hour ago: stamped now, and the session keeps its lifetime from now on.
    _age_session(lib, timedelta(hours=1), timedelta(days=1))
    lifetime = timedelta(days=1, hours=1)
    started = datetime.now()
    assert lib.accounts.resolve_session(token).id == uid
    row = _session_row(lib)
    assert row.last_seen_at >= started
    assert started + lifetime <= row.expires_at <= datetime.now() + lifetime


def test_expired_revoked_and_unknown_sessions(library: Any) -> None:
    lib = library
    uid = lib.accounts.add_user("bob@example.org", None)
    token = lib.accounts.create_session(uid)
    assert lib.accounts.resolve_session("nope") is None
    assert lib.accounts.resolve_session("") is None
    assert lib.accounts.resolve_session(token + "x" * 200) is None
    _age_session(lib, timedelta(hours=1), -timedelta(seconds=1))
    assert lib.accounts.resolve_session(token) is None
    assert lib.accounts.purge_sessions() == 1

    token = lib.accounts.create_session(uid)
    lib.accounts.revoke_session(token)
    assert lib.accounts.resolve_session(token) is None


def test_api_key_stamped_on_first_use_then_lagging(library: Any) -> None:
    lib = library
    uid = lib.accounts.add_user("cy@example.org", None)
    secret = lib.accounts.create_api_key(uid, "phone", ["asset.upload"])
    assert lib.accounts.list_api_keys(uid)[0].last_used_at is None

    grant = lib.accounts.resolve_api_key(secret)
    assert grant.user.id == uid and grant.key.permissions == ("asset.upload",)
    first = lib.accounts.list_api_keys(uid)[0].last_used_at
    assert first is not None

    lib.accounts.resolve_api_key(secret)  # within five minutes: not stamped again
    assert lib.accounts.list_api_keys(uid)[0].last_used_at == first

    with lib.store.write() as s:
        s.execute(update(ApiKey).values(last_used_at=first - timedelta(hours=1)))
    lib.accounts.resolve_api_key(secret)
    assert lib.accounts.list_api_keys(uid)[0].last_used_at >= first

    assert lib.accounts.resolve_api_key("pd_unknown") is None
    lib.accounts.revoke_api_key(grant.key.id, user_id=uid)
    assert lib.accounts.resolve_api_key(secret) is None
