"""ID token validation with tokens we sign ourselves; the provider client on a loopback JWKS."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from typing import Any

import pytest
import requests
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from photodesk.core import InvalidInput
from photodesk.sync.oidc_client import OidcClient, OidcError, validate_id_token
from photodesk.sync.oidc_config import parse_oidc, parse_quota

ISSUER = "https://id.example.org/application/o/photodesk/"
CLIENT_ID = "photodesk"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_800_000_000


def _key(kid: str = "k1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


KEY = _key()
KEYS = KeySet([KEY])


def _claims(**over: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "user-1", "nonce": NONCE,
              "iat": NOW - 10, "exp": NOW + 300, "email": "ann@example.org",
              "email_verified": True}  # fmt: skip
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: Any = KEY, alg: str = "RS256", kid: str = "k1") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, claims, key, algorithms=[alg])


def _check(token: str, **kw: Any) -> dict[str, Any]:
    args = {"issuer": ISSUER, "client_id": CLIENT_ID, "nonce": NONCE, "now": NOW, "leeway": 60}
    args.update(kw)
    return validate_id_token(token, KEYS, **args)


def test_a_good_token_passes() -> None:
    claims = _check(_sign(_claims()))
    assert claims["sub"] == "user-1" and claims["email"] == "ann@example.org"
    _check(_sign(_claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)))
    _check(_sign(_claims(exp=NOW - 30)))  # within the clock-skew leeway


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (_claims(nonce="another nonce"), "nonce"),
        (_claims(nonce=None), "nonce"),
        (_claims(exp=NOW - 120), "expired"),
        (_claims(exp=None), "exp"),
        (_claims(iat=NOW + 3600), "iat"),
        (_claims(iat=None), "iat"),
        (_claims(iss="https://evil.example.org/"), "iss"),
        (_claims(aud="someone-else"), "aud"),
        (_claims(aud=["someone-else", "other"]), "aud"),
        (_claims(aud=[CLIENT_ID, "other"], azp="other"), "azp"),
        (_claims(sub=None), "sub"),
    ],
)
def test_bad_claims_are_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(OidcError) as err:
        _check(_sign(claims))
    assert message in str(err.value)


def test_forged_signatures_are_refused() -> None:
    # Signed by a key the provider does not have, claiming the provider's key id.
    with pytest.raises(OidcError, match="signature"):
        _check(_sign(_claims(), key=_key("k1")))
    # HMAC with a guessable secret, and "none": only the provider's asymmetric keys count.
    secret = OctKey.import_key(b"the client secret, known to the client" * 2)
    with pytest.raises(OidcError, match="signature"):
        _check(_sign(_claims(), key=secret, alg="HS256"))
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    with pytest.raises(OidcError):
        _check(f"{header.decode()}.{body.decode()}.")
    # A signature algorithm the provider does not announce.
    with pytest.raises(OidcError, match="signature"):
        _check(_sign(_claims(), alg="RS384"), algorithms=("RS256",))
    # Altered payload with the original signature.
    token = _sign(_claims())
    h, _, sig = token.split(".")
    evil = base64.urlsafe_b64encode(json.dumps(_claims(sub="admin")).encode()).rstrip(b"=")
    with pytest.raises(OidcError, match="signature"):
        _check(f"{h}.{evil.decode()}.{sig}")
    for junk in ("", "a.b", "a.b.c", "x" * 70000):
        with pytest.raises(OidcError):
            _check(junk)


def test_quota_and_config_parsing() -> None:
    assert parse_quota(5) == 5 * 1024**3
    assert parse_quota("5") == 5 * 1024**3
    assert parse_quota("750 MB") == 750_000_000
    assert parse_quota("1.5TiB") == int(1.5 * 1024**4)
    assert parse_quota(100, "B") == 100
    assert parse_quota(None) is None and parse_quota("unlimited") is None
    for bad in ("lots", True, "-5", [1]):
        with pytest.raises(InvalidInput):
            parse_quota(bad)

    assert parse_oidc(None, env={}) is None
    assert parse_oidc({"enabled": False, "issuer": ISSUER}, env={}) is None
    s = parse_oidc(
        {"issuer": ISSUER, "client_id": "pd", "scopes": "email profile", "auto_register": "yes"},
        env={"PHOTODESK_OIDC_CLIENT_SECRET": "from-env"},
    )
    assert s is not None
    assert s.scopes == ("openid", "email", "profile") and s.auto_register is True
    assert s.client_secret == "from-env"
    assert s.discovery_url == ISSUER.rstrip("/") + "/.well-known/openid-configuration"
    for bad in (
        {"client_id": "pd"},
        {"issuer": "ftp://x", "client_id": "pd"},
        {"issuer": ISSUER},
        {"issuer": ISSUER, "client_id": "pd", "colour": "blue"},
        {"issuer": ISSUER, "client_id": "pd", "auto_register": "maybe"},
        {"issuer": ISSUER, "client_id": "pd", "clock_skew_s": -1},
        {"issuer": ISSUER, "client_id": "pd", "timeout_s": 0},
        {"issuer": ISSUER, "client_id": "pd", "quota_unit": "furlongs"},
    ):
        with pytest.raises(InvalidInput):
            parse_oidc(bad, env={})


class FakeProvider:
    """Discovery and JWKS on loopback, with keys we can rotate."""

    def __init__(self) -> None:
        self.keys = KeySet([KEY])
        self.jwks_hits = 0
        self.issuer = ""

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/auth",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
                "id_token_signing_alg_values_supported": ["RS256", "none", "HS256"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        self.jwks_hits += 1
        return web.json_response(self.keys.as_dict(private=False))


def test_client_discovers_and_follows_key_rotation() -> None:
    async def main() -> None:
        fake = FakeProvider()
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", fake.discovery)
        app.router.add_get("/jwks", fake.jwks)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.issuer = f"http://127.0.0.1:{port}"
        settings = parse_oidc({"issuer": fake.issuer, "client_id": CLIENT_ID}, env={})
        assert settings is not None
        client = OidcClient(settings, clock=lambda: NOW)
        try:
            meta = await client.metadata()
            assert client.algorithms(meta) == ("RS256",)  # "none" and HS256 are dropped
            claims = _claims(iss=fake.issuer)
            assert (await client.validate(_sign(claims), NONCE))["sub"] == "user-1"
            with pytest.raises(OidcError, match="nonce"):
                await client.validate(_sign(claims), "other")
            # The provider rotates to a new key: an unknown signature refetches the JWKS.
            new = _key("k2")
            fake.keys = KeySet([new])
            import photodesk.sync.oidc_client as oc

            oc_min, oc.JWKS_MIN_REFRESH_S = oc.JWKS_MIN_REFRESH_S, 0
            try:
                hits = fake.jwks_hits
                token = _sign(claims, key=new, kid="k2")
                assert (await client.validate(token, NONCE))["sub"] == "user-1"
                assert fake.jwks_hits == hits + 1
                # A forged key is still refused after the refetch.
                with pytest.raises(OidcError, match="signature"):
                    await client.validate(_sign(claims, key=_key("k2"), kid="k2"), NONCE)
            finally:
                oc.JWKS_MIN_REFRESH_S = oc_min
        finally:
            await client.close()
            await runner.cleanup()

        # A discovery document for another issuer is refused.
        fake2 = FakeProvider()
        app2 = web.Application()
        app2.router.add_get("/.well-known/openid-configuration", fake2.discovery)
        runner2 = web.AppRunner(app2)
        await runner2.setup()
        await web.TCPSite(runner2, "127.0.0.1", 0).start()
        fake2.issuer = "https://someone-else.example.org"
        url = f"http://127.0.0.1:{runner2.addresses[0][1]}"
        s2 = parse_oidc({"issuer": url, "client_id": CLIENT_ID}, env={})
        assert s2 is not None
        c2 = OidcClient(s2)
        try:
            with pytest.raises(OidcError, match="not the configured issuer"):
                await c2.metadata()
        finally:
            await c2.close()
            await runner2.cleanup()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_daemon_pages_for_provider_trouble(start_server) -> None:
    # Nothing listens at the issuer: a clear page (502), not a 500 or a hang.
    issuer = f"http://127.0.0.1:{_free_port()}"
    server = start_server(extra={"oidc": {"issuer": issuer, "client_id": "pd", "timeout_s": 5}})
    r = requests.get(f"{server.url}/auth/oidc/login", allow_redirects=False)
    assert r.status_code == 502 and "cannot be reached" in r.text
    # What the provider says is shown escaped.
    r = requests.get(
        f"{server.url}/auth/oidc/callback",
        params={"error": "access_denied", "error_description": "<script>alert(1)</script>"},
    )
    assert r.status_code == 403
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    r = requests.get(f"{server.url}/auth/oidc/callback", params={"state": "x" * 50, "code": "c"})
    assert r.status_code == 400 and "unknown or has expired" in r.text
    # A bad [oidc] section stops the server from starting, with the reason.
    with pytest.raises(InvalidInput, match="client_id"):
        start_server(extra={"oidc": {"issuer": issuer}})
    _ = time


def test_oidc_section_of_the_toml_file(tmp_path) -> None:
    from photodesk.sync.config import load_config
    from photodesk.sync.oidc_config import settings_for

    secret = tmp_path / "client-secret"
    secret.write_text("s3cret\n")
    path = tmp_path / "photodesk.toml"
    path.write_text(
        f"""
[server]
host = "0.0.0.0"
public_url = "https://photos.example.org"

[oidc]
issuer = "{ISSUER}"
client_id = "photodesk"
client_secret_file = "{secret}"
scopes = ["openid", "email", "profile", "photodesk"]
username_claim = "preferred_username"
quota_claim = "photodesk_quota"
auto_register = true
button_label = "Authentik"
disable_password_login = true
"""
    )
    settings = settings_for(load_config(path, env={}))
    assert settings is not None
    assert settings.issuer == ISSUER and settings.client_secret == "s3cret"
    assert settings.scopes == ("openid", "email", "profile", "photodesk")
    assert settings.username_claim == "preferred_username"
    assert settings.auto_register and settings.disable_password_login
    assert settings.button_label == "Authentik"
    assert settings_for(load_config(None, env={})) is None
