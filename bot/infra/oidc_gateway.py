"""Where the OpenID Connect gateway's endpoints and signing keys are: from its discovery document
(OIDC Discovery 1.0) when it offers one, each overridden by an endpoint set explicitly."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx2
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.errors import EsiaUnavailable

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class GatewaySettings:
    issuer: str  # empty: the discovery document's issuer is taken
    discovery_url: str  # empty: ISSUER/.well-known/openid-configuration, when something is missing
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    jwks_url: str = ""

    @property
    def complete(self) -> bool:
        """Everything known without asking the gateway (userinfo is optional)."""
        return bool(self.issuer and self.authorize_url and self.token_url and self.jwks_url)

    @property
    def where_discovered(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + WELL_KNOWN


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorize: str
    token: str
    userinfo: str | None  # without one, the person's claims come in the id_token
    jwks: str
    # How the client secret goes to the token endpoint: the document's choice when it has one, else
    # in the form, as this bot always sent it.
    token_auth_method: str


def _auth_method(document: dict[str, Any]) -> str:
    if not document:
        return "client_secret_post"  # no discovery: as this bot always sent it
    offered = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]  # OIDC's default
    return "client_secret_basic" if "client_secret_basic" in offered else "client_secret_post"


def endpoints_from(settings: GatewaySettings, document: dict[str, Any]) -> Endpoints:
    issuer = document.get("issuer", "")
    if settings.issuer and document and issuer != settings.issuer:
        # OIDC Discovery 4.3: the document must name the issuer it was fetched for.
        log.warning("ESIA discovery document names another issuer than ESIA_ISSUER")
        raise EsiaUnavailable()
    try:
        return Endpoints(
            issuer=settings.issuer or issuer,
            authorize=settings.authorize_url or document["authorization_endpoint"],
            token=settings.token_url or document["token_endpoint"],
            userinfo=settings.userinfo_url or document.get("userinfo_endpoint") or None,
            jwks=settings.jwks_url or document["jwks_uri"],
            token_auth_method=_auth_method(document),
        )
    except KeyError as exc:
        log.warning("ESIA discovery document lacks %s", exc.args[0])
        raise EsiaUnavailable() from exc


async def _json(url: str, what: str, timeout: float) -> dict[str, Any]:
    try:
        async with httpx2.AsyncClient(timeout=timeout) as http:
            response = await http.get(url)
            response.raise_for_status()
            body = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        log.warning("ESIA %s could not be read: %s", what, type(exc).__name__)
        raise EsiaUnavailable() from exc
    if not isinstance(body, dict):
        log.warning("ESIA %s is not a JSON object", what)
        raise EsiaUnavailable()
    return body


class Gateway:
    """The gateway's endpoints, read once; its keys, read again when a token names a key not yet seen."""

    def __init__(self, settings: GatewaySettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._endpoints: Endpoints | None = None
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            async with self._lock:
                if self._endpoints is None:
                    document = ({} if self.settings.complete
                                else await _json(self.settings.where_discovered, "discovery document", self.timeout))
                    self._endpoints = endpoints_from(self.settings, document)
        return self._endpoints

    async def keys(self, *, again: bool = False) -> KeySet:
        if self._keys is None or again:
            jwks = await _json((await self.endpoints()).jwks, "JWKS", self.timeout)
            try:
                self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                log.warning("ESIA JWKS holds no usable key: %s", type(exc).__name__)
                raise EsiaUnavailable() from exc
        return self._keys
