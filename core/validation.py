"""Checks on what people type. Each returns the normalized value or raises ``InvalidInput``.

The ``reason`` strings are stable codes; the bot words them in Russian.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from core.enums import Sex
from core.errors import InvalidInput

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+$")
_NAME = re.compile(r"^[А-ЯЁа-яё]+(?:[\- ][А-ЯЁа-яё]+)*$")
_DIGITS = re.compile(r"\D")
MAX_AGE_YEARS = 130


def email(raw: str) -> str:
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("email", "format")
    return value


def name_part(raw: str, field: str, *, required: bool = True) -> str | None:
    value = " ".join(raw.split())
    if not value or value == "-":
        if required:
            raise InvalidInput(field, "empty")
        return None
    if len(value) > 60:
        raise InvalidInput(field, "too_long")
    if not _NAME.match(value):
        raise InvalidInput(field, "letters")
    return "-".join(p[:1].upper() + p[1:].lower() for p in value.split("-"))


def full_name(raw: str) -> tuple[str, str, str | None]:
    """«Фамилия Имя Отчество» → (last, first, middle); the patronymic may be absent."""
    parts = raw.split()
    if len(parts) < 2:
        raise InvalidInput("full_name", "parts")
    if len(parts) > 3:
        raise InvalidInput("full_name", "too_many_parts")
    last = name_part(parts[0], "full_name")
    first = name_part(parts[1], "full_name")
    middle = name_part(parts[2], "full_name") if len(parts) == 3 else None
    assert last is not None and first is not None
    return last, first, middle


def birth_date(raw: str, today: date) -> date:
    try:
        value = datetime.strptime(raw.strip(), "%d.%m.%Y").date()
    except ValueError as exc:
        raise InvalidInput("birth_date", "format") from exc
    if value > today:
        raise InvalidInput("birth_date", "future")
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age > MAX_AGE_YEARS:
        raise InvalidInput("birth_date", "too_old")
    return value


def sex(raw: str) -> Sex:
    try:
        return Sex(raw)
    except ValueError as exc:
        raise InvalidInput("sex", "format") from exc


def oms_policy(raw: str) -> str:
    """The unified OMS policy number: 16 digits (spaces and dashes are forgiven)."""
    digits = _DIGITS.sub("", raw)
    if len(digits) != 16 or len(digits) != len(raw.replace(" ", "").replace("-", "")):
        raise InvalidInput("oms_policy", "format")
    return digits


def snils_checksum(first9: str) -> int:
    total = sum(int(d) * w for d, w in zip(first9, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    rest = total % 101
    return 0 if rest == 100 else rest


def snils(raw: str) -> str:
    """SNILS: 11 digits, the last two a check number (checked for numbers above 001-001-998)."""
    compact = raw.replace(" ", "").replace("-", "")
    if not compact.isdigit() or len(compact) != 11:
        raise InvalidInput("snils", "format")
    if int(compact[:9]) > 1001998 and snils_checksum(compact[:9]) != int(compact[9:]):
        raise InvalidInput("snils", "checksum")
    return compact


def phone(raw: str) -> str:
    """A Russian mobile or landline number, stored as +7XXXXXXXXXX."""
    cleaned = raw.strip()
    if re.search(r"[^\d\s()+\-]", cleaned):
        raise InvalidInput("phone", "format")
    digits = _DIGITS.sub("", cleaned)
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10:
        raise InvalidInput("phone", "format")
    return "+7" + digits


def format_snils(value: str) -> str:
    return f"{value[:3]}-{value[3:6]}-{value[6:9]} {value[9:]}"
