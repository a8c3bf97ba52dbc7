"""TOTP (RFC 6238) codes, the +-1 step window, replay refusal and single-use recovery codes."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from photodesk.core import Conflict, InvalidInput
from photodesk.core.accounts.totp import code_at, match_step, otpauth_uri
from photodesk.core.catalog.db.schema import UserRecoveryCode, UserTotp

# RFC 6238 appendix B, SHA-1: secret "12345678901234567890", 8 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
T0 = 1_800_000_000.0  # a fixed "now" (a step boundary) for the service tests


@pytest.mark.parametrize(("when", "expected"), RFC_VECTORS)
def test_rfc6238_vectors(when: int, expected: str) -> None:
    assert code_at(RFC_SECRET, when, digits=8) == expected
    assert code_at(RFC_SECRET, when) == expected[-6:]


def test_window_is_one_step_each_side() -> None:
    now = 1_111_111_111.0
    for offset, ok in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = code_at(RFC_SECRET, now + offset)
        assert (match_step(RFC_SECRET, code, now) is not None) is ok, offset
    assert match_step(RFC_SECRET, "12345", now) is None
    assert match_step(RFC_SECRET, "abcdef", now) is None
    step = match_step(RFC_SECRET, code_at(RFC_SECRET, now), now)
    assert step is not None
    assert match_step(RFC_SECRET, code_at(RFC_SECRET, now), now, after=step) is None


def test_otpauth_uri() -> None:
    uri = otpauth_uri("JBSWY3DPEHPK3PXP", "ann@example.org", "photodesk")
    assert uri.startswith("otpauth://totp/photodesk:ann@example.org?secret=JBSWY3DPEHPK3PXP")
    assert "issuer=photodesk" in uri and "period=30" in uri and "digits=6" in uri


@pytest.fixture
def user(library):
    uid = library.accounts.add_user("ann@example.org", "a long password")
    clock = [T0]
    library.accounts.totp.clock = lambda: clock[0]
    return library, uid, clock


def test_enrol_verify_replay_and_recovery(user) -> None:
    lib, uid, clock = user
    totp = lib.accounts.totp
    assert not totp.status(uid).enabled
    setup = totp.begin(uid)
    assert setup.uri.startswith("otpauth://totp/") and setup.secret in setup.uri
    assert not totp.is_enabled(uid)  # not before confirmation
    with pytest.raises(InvalidInput):
        totp.confirm(uid, "000000" if code_at(setup.secret, T0) != "000000" else "111111")
    codes = totp.confirm(uid, code_at(setup.secret, T0))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert totp.status(uid).enabled and totp.status(uid).recovery_codes_left == 10
    with pytest.raises(Conflict):
        totp.begin(uid)

    # The code used to confirm cannot be used again (same step), nor can an older one.
    assert not totp.verify(uid, code_at(setup.secret, T0))
    assert not totp.verify(uid, code_at(setup.secret, T0 - 30))
    clock[0] = T0 + 30
    code = code_at(setup.secret, T0 + 30)
    assert totp.verify(uid, code)
    assert not totp.verify(uid, code)  # replay refused
    # A phone one step ahead is accepted, then the earlier step is spent too.
    clock[0] = T0 + 90
    assert totp.verify(uid, code_at(setup.secret, T0 + 120))
    assert not totp.verify(uid, code_at(setup.secret, T0 + 90))
    clock[0] = T0 + 3600
    assert not totp.verify(uid, code_at(setup.secret, T0 + 3600 - 90))  # too old

    # Recovery codes: stored hashed, each works once, format is forgiving.
    with lib.read() as s:
        hashes = list(s.scalars(select(UserRecoveryCode.code_hash)))
        assert not any(c.replace("-", "") in h for c in codes for h in hashes)
        assert s.get(UserTotp, uid).secret == setup.secret
    assert totp.verify(uid, codes[0].upper().replace("-", " "))
    assert not totp.verify(uid, codes[0])
    assert totp.status(uid).recovery_codes_left == 9
    assert not totp.verify(uid, "aaaaa-bbbbb")

    fresh = totp.new_recovery_codes(uid)
    assert not totp.verify(uid, codes[1])  # the old set is gone
    assert totp.verify(uid, fresh[0])

    assert totp.disable(uid)
    assert not totp.status(uid).enabled
    assert not totp.verify(uid, fresh[1])
    with lib.read() as s:
        assert s.scalar(select(UserTotp).where(UserTotp.user_id == uid)) is None
    assert not totp.disable(uid)


def test_bad_input_is_refused_cleanly(user) -> None:
    lib, uid, _ = user
    totp = lib.accounts.totp
    assert not totp.verify(uid, "123456")  # not enrolled
    with pytest.raises(InvalidInput):
        totp.confirm(uid, "123456")
    totp.begin(uid)
    for junk in ("", "   ", "x" * 500, "12345", "1234567"):
        assert not totp.verify(uid, junk)
