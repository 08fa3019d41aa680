"""ESIA through an OpenID Connect gateway, with Authlib's client: the authorization-code flow with
PKCE (S256), the ``id_token`` verified (``bot.infra.id_token``), then the person from its claims and
the userinfo endpoint's, under the names the settings give (``bot.infra.esia_claims``)."""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc.jwk import KeySet

from bot.infra.esia_claims import ClaimNames, person_from_claims
from bot.infra.id_token import TokenRefused, UnknownSigningKey, verify_id_token
from bot.infra.oidc_gateway import Endpoints, Gateway
from core.clock import Clock
from core.errors import EsiaUnavailable
from core.ports import EsiaPerson

log = logging.getLogger(__name__)


class OidcIdentityProvider:
    def __init__(self, gateway: Gateway, *, client_id: str, client_secret: str, redirect_uri: str, scope: str,
                 claim_names: ClaimNames, clock: Clock, timeout: float = 10.0) -> None:
        self.gateway = gateway
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.scope = redirect_uri, scope
        self.claim_names = claim_names
        self.clock = clock
        self.timeout = timeout

    def _client(self, endpoints: Endpoints) -> AsyncOAuth2Client:
        # One per log-in: the client keeps the token it fetched.
        return AsyncOAuth2Client(
            client_id=self.client_id, client_secret=self.client_secret, scope=self.scope,
            redirect_uri=self.redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method=endpoints.token_auth_method, timeout=self.timeout,
        )

    async def authorize_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        endpoints = await self.gateway.endpoints()
        async with self._client(endpoints) as client:
            url, _ = client.create_authorization_url(endpoints.authorize, state=state, code_verifier=code_verifier,
                                                     nonce=nonce)
        return str(url)

    async def person_for_code(self, code: str, *, nonce: str, code_verifier: str | None) -> EsiaPerson:
        endpoints = await self.gateway.endpoints()
        async with self._client(endpoints) as client:
            try:
                token = await client.fetch_token(endpoints.token, grant_type="authorization_code", code=code,
                                                 code_verifier=code_verifier)
            except OAuthError as exc:
                log.warning("ESIA token endpoint refused the code: %s", exc.error)
                raise EsiaUnavailable() from exc
            except (httpx2.HTTPError, ValueError) as exc:
                log.warning("ESIA token endpoint failed: %s", type(exc).__name__)
                raise EsiaUnavailable() from exc
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                log.warning("ESIA id_token refused, check failed: present")
                raise EsiaUnavailable()
            claims = await self._verified(id_token, endpoints, nonce)
            if endpoints.userinfo:
                claims = {**claims, **await self._userinfo(client, endpoints.userinfo, claims["sub"])}
        return person_from_claims(claims, self.claim_names)

    async def _verified(self, id_token: str, endpoints: Endpoints, nonce: str) -> dict[str, Any]:
        def verify(keys: KeySet) -> dict[str, Any]:
            return verify_id_token(id_token, keys, issuer=endpoints.issuer, client_id=self.client_id, nonce=nonce,
                                   now=int(self.clock.now().timestamp()))

        try:
            try:
                return verify(await self.gateway.keys())
            except UnknownSigningKey:
                return verify(await self.gateway.keys(again=True))  # the gateway may have rotated its keys
        except TokenRefused as exc:
            log.warning("ESIA id_token refused, check failed: %s", exc.check)
            raise EsiaUnavailable() from exc

    async def _userinfo(self, client: AsyncOAuth2Client, url: str, subject: str) -> dict[str, Any]:
        try:
            response = await client.get(url)
            response.raise_for_status()
            info = response.json()
        except (OAuthError, httpx2.HTTPError, ValueError) as exc:
            log.warning("ESIA userinfo endpoint failed: %s", type(exc).__name__)
            raise EsiaUnavailable() from exc
        if not isinstance(info, dict) or info.get("sub") != subject:
            # OIDC Core 5.3.2: userinfo about anyone but the id_token's subject is not used.
            log.warning("ESIA userinfo refused, check failed: sub")
            raise EsiaUnavailable()
        return info
