"""Which appointments the card file shows (R20–R23).

- An e-mail account sees only portal appointments (R21) made under this account.
- An ESIA account's owner also sees appointments from every source that carry the owner's
  policy or SNILS (R22): ESIA proved who the owner is.
- Other people in the card file: only portal appointments made under this account (R23).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.enums import AuthMethod
from storage.models import Patient


@dataclass(frozen=True)
class VisibleScope:
    account_id: int
    patient_ids: tuple[int, ...]
    owner_identity: tuple[str | None, str | None] | None  # (policy, SNILS) of an ESIA-proven owner
    owner_id: int | None


def scope(account_id: int, method: AuthMethod, people: list[Patient]) -> VisibleScope:
    owner = next((p for p in people if p.is_owner), None)
    identity = None
    if method == AuthMethod.ESIA and owner is not None and (owner.oms_policy or owner.snils):
        identity = (owner.oms_policy, owner.snils)
    return VisibleScope(account_id, tuple(p.id for p in people), identity, owner.id if owner else None)
