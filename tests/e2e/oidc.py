"""A fake ESIA / OpenID Connect gateway: authorization code flow with one-time codes."""

from __future__ import annotations

import secrets
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"


class FakeOidcProvider:
    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self._codes: dict[str, str] = {}  # code → redirect_uri
        self._tokens: set[str] = set()
        self.token_requests = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"ESIA_ENABLED": "true", "ESIA_AUTHORIZE_URL": f"{self.base}/authorize",
                "ESIA_TOKEN_URL": f"{self.base}/token", "ESIA_USERINFO_URL": f"{self.base}/userinfo",
                "ESIA_CLIENT_ID": CLIENT_ID, "ESIA_CLIENT_SECRET": CLIENT_SECRET}

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="bad client")
        code = secrets.token_urlsafe(12)
        self._codes[code] = query["redirect_uri"]
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        redirect = self._codes.pop(str(form.get("code")), None)  # single use
        if (redirect is None or redirect != form.get("redirect_uri") or form.get("client_secret") != CLIENT_SECRET
                or form.get("grant_type") != "authorization_code"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = secrets.token_urlsafe(16)
        self._tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                                  "id_token": "e30.e30."})

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._tokens:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response(self.claims)


async def open_in_browser(url: str) -> tuple[int, str, str]:
    """What a browser does with the login link: follow the redirects; returns status, final URL, body."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=True) as response:
        return response.status, str(response.url), await response.text()
