"""Which of the gateway's claims fill which field of the owner's card.

Gateways name them differently (``oms_policy``, ``oms_number``, ``oms``; ``family_name`` or ESIA's own
``lastName``): each field has a list of names, and the first claim present wins (docs/esia.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core import validation
from core.enums import Sex
from core.errors import EsiaUnavailable, InvalidInput
from core.ports import EsiaPerson

log = logging.getLogger(__name__)

_MALE = {"male", "m", "м", "муж", "мужской"}
_FEMALE = {"female", "f", "ж", "жен", "женский"}


def claim_list(setting: str) -> tuple[str, ...]:
    """``"oms_policy, oms_number"`` → ``("oms_policy", "oms_number")``."""
    return tuple(name.strip() for name in setting.split(",") if name.strip())


@dataclass(frozen=True)
class ClaimNames:
    last_name: tuple[str, ...]
    first_name: tuple[str, ...]
    middle_name: tuple[str, ...]
    birth_date: tuple[str, ...]
    sex: tuple[str, ...]
    snils: tuple[str, ...]
    oms_policy: tuple[str, ...]


class _Malformed(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _first(claims: Mapping[str, Any], candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        value = claims.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return None


def _required(claims: Mapping[str, Any], candidates: tuple[str, ...], field: str) -> str:
    value = _first(claims, candidates)
    if value is None:
        raise _Malformed(field)
    return value


def _birth_date(raw: str) -> date:
    # OIDC's ISO form, or ESIA's own "dd.mm.yyyy" passed through by some gateways.
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise _Malformed("birth_date")


def _sex(raw: str) -> Sex:
    word = raw.lower()
    if word in _MALE:
        return Sex.MALE
    if word in _FEMALE:
        return Sex.FEMALE
    raise _Malformed("sex")


def _checked(value: str | None, check: Callable[[str], str], field: str) -> str | None:
    if value is None:
        return None
    try:
        return check(value)
    except InvalidInput as exc:
        raise _Malformed(field) from exc


def person_from_claims(claims: Mapping[str, Any], names: ClaimNames) -> EsiaPerson:
    """The person the claims describe; a missing or malformed field refuses the log-in (the log names
    the field, never its value)."""
    try:
        return EsiaPerson(
            subject=_required(claims, ("sub",), "sub"),
            last_name=_required(claims, names.last_name, "last_name"),
            first_name=_required(claims, names.first_name, "first_name"),
            middle_name=_first(claims, names.middle_name),
            birth_date=_birth_date(_required(claims, names.birth_date, "birth_date")),
            sex=_sex(_required(claims, names.sex, "sex")),
            snils=_checked(_first(claims, names.snils), validation.snils, "snils"),
            oms_policy=_checked(_first(claims, names.oms_policy), validation.oms_policy, "oms_policy"),
        )
    except _Malformed as exc:
        log.warning("ESIA claims refused: %s missing or malformed", exc.field)
        raise EsiaUnavailable() from exc
