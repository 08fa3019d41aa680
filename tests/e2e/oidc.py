"""A fake ESIA / OpenID Connect gateway, real enough for the bot's client: discovery, a JWKS with an
RSA key made at start, an RS256-signed ``id_token`` with ``iss``/``aud``/``exp``/``nonce``, PKCE (S256)
checked at the token endpoint, and userinfo under whatever claim names a test gives it.

A test makes it misbehave on purpose through ``id_token_overrides`` (a wrong nonce, audience,
issuer, an ``exp`` in the past) or ``sign_with`` (a key that is not in its JWKS).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"
KEY_ID = "gateway-key-1"


def rsa_key(kid: str = KEY_ID) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


class FakeOidcProvider:
    def __init__(self, claims: dict[str, Any], *, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 userinfo: bool = True) -> None:
        self.claims = claims  # the person; in userinfo, or in the id_token when there is no userinfo
        self.now = now
        self.userinfo = userinfo
        self.key = rsa_key()
        self.sign_with: RSAKey | None = None  # another key: a signature the JWKS cannot verify
        self.id_token_overrides: dict[str, Any] = {}
        self.token_lifetime = timedelta(minutes=5)
        self.token_requests = 0
        self.discovery_requests = 0
        self.verifiers: list[str] = []  # the code_verifier of each token request
        self.challenges: list[str] = []  # the code_challenge of each authorization request
        self._grants: dict[str, _Grant] = {}
        self._tokens: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base

    def env(self) -> dict[str, str]:
        """Settings for a bot that finds the endpoints through discovery."""
        return {"ESIA_ENABLED": "true", "ESIA_ISSUER": self.issuer,
                "ESIA_CLIENT_ID": CLIENT_ID, "ESIA_CLIENT_SECRET": CLIENT_SECRET}

    def explicit_env(self) -> dict[str, str]:
        """Settings for a bot told every endpoint, as for a gateway without discovery."""
        return {"ESIA_ENABLED": "true", "ESIA_ISSUER": self.issuer,
                "ESIA_AUTHORIZE_URL": f"{self.base}/authorize", "ESIA_TOKEN_URL": f"{self.base}/token",
                "ESIA_USERINFO_URL": f"{self.base}/userinfo" if self.userinfo else "",
                "ESIA_JWKS_URL": f"{self.base}/jwks",
                "ESIA_CLIENT_ID": CLIENT_ID, "ESIA_CLIENT_SECRET": CLIENT_SECRET}

    async def _discovery(self, _: web.Request) -> web.Response:
        self.discovery_requests += 1
        document = {
            "issuer": self.issuer, "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token", "jwks_uri": f"{self.base}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        if self.userinfo:
            document["userinfo_endpoint"] = f"{self.base}/userinfo"
        return web.json_response(document)

    async def _jwks(self, _: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="bad client")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return web.Response(status=400, text="PKCE (S256) is required")
        self.challenges.append(query["code_challenge"])
        code = secrets.token_urlsafe(12)
        self._grants[code] = _Grant(query["redirect_uri"], query.get("nonce"), query["code_challenge"])
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        raise web.HTTPFound(target)

    def _client_authenticated(self, request: web.Request, form: Any) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            return (client, secret) == (CLIENT_ID, CLIENT_SECRET)
        return (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        grant = self._grants.pop(str(form.get("code")), None)  # single use
        verifier = str(form.get("code_verifier", ""))
        self.verifiers.append(verifier)
        if (grant is None or grant.redirect_uri != form.get("redirect_uri")
                or form.get("grant_type") != "authorization_code" or not self._client_authenticated(request, form)):
            return web.json_response({"error": "invalid_grant"}, status=400)
        if grant.code_challenge is not None and s256(verifier) != grant.code_challenge:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        token = secrets.token_urlsafe(16)
        self._tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                                  "id_token": self._id_token(grant.nonce)})

    def _id_token(self, nonce: str | None) -> str:
        issued = self.now()
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": self.claims["sub"], "aud": CLIENT_ID,
            "iat": int(issued.timestamp()), "exp": int((issued + self.token_lifetime).timestamp()),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if not self.userinfo:
            claims.update(self.claims)
        for name, value in self.id_token_overrides.items():  # None: the claim is left out
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": str(key.kid)}, claims, key)

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self.userinfo or token not in self._tokens:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response(self.claims)


async def open_in_browser(url: str) -> tuple[int, str, str]:
    """What a browser does with the login link: follow the redirects; returns status, final URL, body."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=True) as response:
        return response.status, str(response.url), await response.text()


async def sign_in(url: str) -> tuple[str, str]:
    """The patient signs in at the gateway; returns the ``state`` and ``code`` it sends back to the bot."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        back = response.headers["Location"]
    query = parse_qs(urlparse(back).query)
    return query["state"][0], query["code"][0]
