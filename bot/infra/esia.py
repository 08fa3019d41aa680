"""ESIA through an OpenID Connect gateway: authorization-code flow, then the userinfo claims."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from urllib.parse import urlencode

import aiohttp

from core import validation
from core.enums import Sex
from core.errors import EsiaUnavailable, InvalidInput
from core.ports import EsiaPerson

log = logging.getLogger(__name__)


class OidcIdentityProvider:
    def __init__(self, *, authorize_url: str, token_url: str, userinfo_url: str, client_id: str,
                 client_secret: str, redirect_uri: str, scope: str, timeout: float = 10.0) -> None:
        self.authorize_endpoint, self.token_url, self.userinfo_url = authorize_url, token_url, userinfo_url
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.scope = redirect_uri, scope
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def authorize_url(self, state: str, nonce: str) -> str:
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "scope": self.scope, "state": state, "nonce": nonce,
        })
        return f"{self.authorize_endpoint}?{query}"

    async def person_for_code(self, code: str) -> EsiaPerson:
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(self.token_url, data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                    "client_id": self.client_id, "client_secret": self.client_secret,
                }) as response:
                    if response.status != 200:
                        log.warning("ESIA token endpoint answered %s", response.status)
                        raise EsiaUnavailable()
                    token = (await response.json())["access_token"]
                async with http.get(self.userinfo_url, headers={"Authorization": f"Bearer {token}"}) as response:
                    if response.status != 200:
                        log.warning("ESIA userinfo endpoint answered %s", response.status)
                        raise EsiaUnavailable()
                    claims = await response.json()
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            log.warning("ESIA exchange failed: %s", type(exc).__name__)
            raise EsiaUnavailable() from exc
        return person_from_claims(claims)


def person_from_claims(claims: dict[str, Any]) -> EsiaPerson:
    try:
        sex = Sex.MALE if str(claims["gender"]).lower() in ("male", "m", "м") else Sex.FEMALE
        snils = validation.snils(str(claims["snils"])) if claims.get("snils") else None
        oms = validation.oms_policy(str(claims["oms_policy"])) if claims.get("oms_policy") else None
        return EsiaPerson(
            subject=str(claims["sub"]), last_name=str(claims["family_name"]), first_name=str(claims["given_name"]),
            middle_name=claims.get("middle_name") or None, birth_date=date.fromisoformat(claims["birthdate"]),
            sex=sex, snils=snils, oms_policy=oms,
        )
    except (KeyError, ValueError, InvalidInput) as exc:
        log.warning("ESIA claims incomplete or malformed: %s", type(exc).__name__)
        raise EsiaUnavailable() from exc
