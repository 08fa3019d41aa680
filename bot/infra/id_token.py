"""The OpenID Connect ``id_token`` checked as the standard says (OIDC Core 3.1.3.7), with joserfc:
the gateway's signature, then ``iss``, ``aud`` (and ``azp``), ``exp`` and the log-in's ``nonce``."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

# The algorithms OIDC gateways sign with; "none" and the HMAC ones (keyed by the client secret) are not
# accepted from a JWKS.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
LEEWAY_SECONDS = 60  # clock skew between the bot and the gateway


class TokenRefused(Exception):
    """The id_token failed a check; ``check`` names it (never a claim's value)."""

    def __init__(self, check: str) -> None:
        super().__init__(check)
        self.check = check


class UnknownSigningKey(TokenRefused):
    """Signed with a key the JWKS read so far does not hold: the gateway may have rotated its keys."""

    def __init__(self) -> None:
        super().__init__("signature (unknown key)")


def verify_id_token(id_token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str,
                    now: int) -> dict[str, Any]:
    """The token's claims, if every check passes; otherwise ``TokenRefused``."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except InvalidKeyIdError as exc:
        raise UnknownSigningKey() from exc
    except (BadSignatureError, JoseError, ValueError) as exc:
        raise TokenRefused("signature") from exc
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
        azp={"value": client_id},  # when present (several audiences), it must be this bot
    )
    try:
        registry.validate(token.claims)
    except ClaimError as exc:
        raise TokenRefused(exc.claim.split(",")[0]) from exc
    return token.claims
