"""Talking to the OpenID provider without blocking: discovery, JWKS, code exchange, ID tokens."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from photodesk.sync.oidc_config import OidcSettings

log = logging.getLogger(__name__)
# Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are refused.
ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                "ES512", "EdDSA", "Ed25519")  # fmt: skip
METADATA_TTL_S = 3600
JWKS_MIN_REFRESH_S = 30  # an unknown key id refetches the JWKS at most this often
MAX_DOC_BYTES = 1024 * 1024
Clock = Callable[[], float]


class OidcError(Exception):
    """A sign-in that must be refused; the message is safe to show to the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AuthRequest:
    """One started sign-in: what goes to the provider and what must come back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def new_auth_request(settings: OidcSettings, endpoint: str, redirect_uri: str) -> AuthRequest:
    """Fresh state, nonce and PKCE verifier (S256) and the provider's authorization URL."""
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    sep = "&" if "?" in endpoint else "?"
    return AuthRequest(f"{endpoint}{sep}{query}", state, nonce, verifier)


def validate_id_token(
    id_token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...] = ("RS256",),
    now: float | None = None,
    leeway: int = 60,
) -> dict[str, Any]:
    """The claims of an ID token whose signature and claims are all right; else OidcError.

    Checks (OpenID Connect Core 3.1.3.7): signature by one of the provider's keys with an
    allowed algorithm, ``iss`` is the provider, ``aud`` has our client id (and ``azp`` is us
    when there are several audiences), ``exp`` not passed, ``iat`` not in the future, ``sub``
    present, and ``nonce`` is the one this sign-in sent.
    """
    if not isinstance(id_token, str) or id_token.count(".") != 2 or len(id_token) > 64 * 1024:
        raise OidcError("the provider's ID token is malformed")
    try:
        token = jwt.decode(id_token, keys, algorithms=list(algorithms))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcError(f"the ID token's signature is not valid ({type(exc).__name__})") from exc
    claims = token.claims
    at = int(time.time() if now is None else now)
    registry = jwt.JWTClaimsRegistry(
        now=at,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        claim = getattr(exc, "claim", "") or ""
        if "exp" in str(exc) or claim == "exp":
            raise OidcError("the ID token has expired") from exc
        if claim == "nonce" or "nonce" in str(exc):
            raise OidcError("the ID token was not issued for this sign-in (nonce)") from exc
        where = f" ({claim})" if claim else ""
        raise OidcError(f"the ID token is not valid{where}: {exc.description or exc}") from exc
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise OidcError("the ID token was issued to another client (azp)")
    if "azp" in claims and claims["azp"] != client_id:
        raise OidcError("the ID token was issued to another client (azp)")
    return dict(claims)


class OidcClient:
    """The provider as the daemon sees it; every request goes through aiohttp (never blocks)."""

    def __init__(self, settings: OidcSettings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s),
                headers={"User-Agent": "photodesk"},
            )
        return self._http

    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._session().request(method, url, **kwargs) as resp:
                body = await resp.content.read(MAX_DOC_BYTES + 1)
                if len(body) > MAX_DOC_BYTES:
                    raise OidcError("the identity provider sent too large an answer", 502)
                try:
                    return resp.status, json.loads(body)
                except ValueError:
                    return resp.status, None
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("identity provider request %s %s failed: %r", method, url, exc)
            raise OidcError(
                "the identity provider cannot be reached; try again later", 502
            ) from exc

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        async with self._lock:
            if self._meta is not None and time.monotonic() - self._meta_at < METADATA_TTL_S:
                return self._meta
            status, doc = await self._json("GET", self.settings.discovery_url)
            if status != 200 or not isinstance(doc, dict):
                raise OidcError("the identity provider's discovery document cannot be read", 502)
            issuer = doc.get("issuer")
            if not isinstance(issuer, str) or issuer.rstrip("/") != self.settings.issuer.rstrip(
                "/"
            ):
                raise OidcError(
                    f"the provider calls itself {issuer!r}, not the configured issuer", 502
                )
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(doc.get(name), str):
                    raise OidcError(f"the provider's discovery document has no {name}", 502)
            self._meta, self._meta_at = doc, time.monotonic()
            return doc

    async def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (refetched when a token names a key we do not have)."""
        meta = await self.metadata()
        async with self._lock:
            stale = time.monotonic() - self._keys_at > JWKS_MIN_REFRESH_S
            if self._keys is not None and not (refresh and stale):
                return self._keys
            status, doc = await self._json("GET", meta["jwks_uri"])
            if status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
                raise OidcError("the identity provider's keys (JWKS) cannot be read", 502)
            usable = [
                k for k in doc["keys"]
                if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") != "oct"
            ]  # fmt: skip
            try:
                self._keys = KeySet.import_key_set({"keys": usable})
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                raise OidcError("the identity provider's keys (JWKS) are not valid", 502) from exc
            self._keys_at = time.monotonic()
            return self._keys

    def algorithms(self, meta: dict[str, Any]) -> tuple[str, ...]:
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        algs = tuple(a for a in offered if a in ALLOWED_ALGS)
        if not algs:
            raise OidcError("the provider signs ID tokens only with algorithms we refuse", 502)
        return algs

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the authorization code for tokens (client secret + PKCE verifier)."""
        meta = await self.metadata()
        s = self.settings
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        auth: str | None = None
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if not s.client_secret:
            form["client_id"] = s.client_id
        elif "client_secret_basic" in methods:
            # RFC 6749 2.3.1: the id and secret are form-encoded before going into Basic.
            pair = f"{quote(s.client_id, safe='')}:{quote(s.client_secret, safe='')}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"], form["client_secret"] = s.client_id, s.client_secret
        status, body = await self._json(
            "POST", meta["token_endpoint"], data=form,
            headers={"Accept": "application/json", **({"Authorization": auth} if auth else {})},
        )  # fmt: skip
        if status != 200 or not isinstance(body, dict):
            reason = body.get("error") if isinstance(body, dict) else None
            log.warning("token exchange refused: HTTP %s %s", status, reason)
            raise OidcError(
                "the identity provider refused the sign-in code"
                + (f" ({reason})" if isinstance(reason, str) else ""),
                403,
            )
        if not isinstance(body.get("id_token"), str):
            raise OidcError("the identity provider sent no ID token (is 'openid' a scope?)", 502)
        return body

    async def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of the ID token of this sign-in (see ``validate_id_token``)."""
        meta = await self.metadata()
        algorithms = self.algorithms(meta)

        def check(keys: KeySet) -> dict[str, Any]:
            return validate_id_token(
                id_token, keys, issuer=meta["issuer"], client_id=self.settings.client_id,
                nonce=nonce, algorithms=algorithms, now=self.clock(),
                leeway=self.settings.clock_skew_s,
            )  # fmt: skip

        try:
            return check(await self.keys())
        except OidcError as exc:
            if "signature" not in str(exc):
                raise
        # Perhaps the provider rotated its keys: fetch them again (rate-limited), retry once.
        return check(await self.keys(refresh=True))

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        url = meta.get("userinfo_endpoint")
        if not isinstance(url, str) or not access_token:
            return {}
        status, body = await self._json(
            "GET", url, headers={"Authorization": f"Bearer {access_token}",
                                 "Accept": "application/json"}
        )  # fmt: skip
        if status != 200 or not isinstance(body, dict):
            log.warning("userinfo request failed: HTTP %s", status)
            return {}
        return body
