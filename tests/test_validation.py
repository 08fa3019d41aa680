"""What a person may type into the card-file form (R4), and how the bot reads it.

Pure checks, no database. Expected values are worked out by hand here, never by calling
the code under test, so a wrong rule shows up as a wrong answer.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import validation
from core.errors import InvalidInput

TODAY = date(2026, 11, 30)


def refused(call: object, *args: object) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as info:
        call(*args)
    return info.value


# --- СНИЛС -------------------------------------------------------------------------------------
# The check number: digits 1..9 times weights 9..1, summed. Below 100 the sum itself; 100 and 101
# give 00; above 101 the remainder of division by 101, where a remainder of 100 gives 00 too.


@pytest.mark.parametrize(("typed", "stored"), [
    # 1·9+1·8+2·7+2·6+3·5+3·4+4·3+4·2+5·1 = 95 → 95
    ("112-233-445 95", "11223344595"),
    # 9+16+21+24+25+24+21+16+9 = 165; 165 − 101 = 64 → 64
    ("123-456-789 64", "12345678964"),
    # 27+16+14+12+10+8+6+4+3 = 100 → 00
    ("322-222-223 00", "32222222300"),
    # … + 4·1 = 101 → 00
    ("322 222 224 00", "32222222400"),
    # … + 5·1 = 102; 102 − 101 = 1 → 01
    ("32222222501", "32222222501"),
    # 54+32+28+24+20+16+15+8+4 = 201; 201 − 101 = 100 → 00
    ("644-444-544 00", "64444454400"),
])
def test_snils_with_the_right_check_number_is_accepted(typed: str, stored: str) -> None:
    """R4: СНИЛС is optional, but when given it is 11 digits whose last two are the check number."""
    assert validation.snils(typed) == stored


@pytest.mark.parametrize("typed", ["112-233-445 96", "123-456-789 46", "322-222-223 10", "644-444-544 01"])
def test_snils_with_a_wrong_check_number_is_refused(typed: str) -> None:
    """R4: a mistyped digit changes the check number; the form says the number is wrong."""
    error = refused(validation.snils, typed)
    assert (error.field, error.reason) == ("snils", "checksum")


def test_early_snils_numbers_up_to_001_001_998_are_not_checked() -> None:
    """R4: numbers up to 001-001-998 were issued before the check number rule; any check digits pass.
    From 001-001-999 on the rule applies (0+0+7+0+0+4+27+18+9 = 65)."""
    assert validation.snils("001-001-998 00") == "00100199800"
    assert validation.snils("001-001-998 99") == "00100199899"
    assert validation.snils("000-000-001 17") == "00000000117"
    assert validation.snils("001-001-999 65") == "00100199965"
    assert refused(validation.snils, "001-001-999 00").reason == "checksum"


@pytest.mark.parametrize("typed", ["112-233-445 9", "112-233-445 955", "112-233-44A 95", "", "СНИЛС"])
def test_snils_of_the_wrong_shape_is_refused(typed: str) -> None:
    error = refused(validation.snils, typed)
    assert (error.field, error.reason) == ("snils", "format")


def test_snils_is_shown_the_way_it_is_printed_on_the_card() -> None:
    assert validation.format_snils("11223344595") == "112-233-445 95"


# --- Полис ОМС ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["7700000012345678", "7700 0000 1234 5678", "7700-0000-1234-5678"])
def test_oms_policy_is_sixteen_digits_spaces_and_dashes_forgiven(typed: str) -> None:
    """R4: the unified OMS policy number has 16 digits."""
    assert validation.oms_policy(typed) == "7700000012345678"


@pytest.mark.parametrize("typed", ["770000001234567", "77000000123456789", "7700 0000 1234 567A", "ЕП 77000000123456",
                                   "7700.0000.1234.5678", ""])
def test_oms_policy_of_the_wrong_shape_is_refused(typed: str) -> None:
    error = refused(validation.oms_policy, typed)
    assert (error.field, error.reason) == ("oms_policy", "format")


# --- ФИО ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "parts"), [
    ("иванова анна петровна", ("Иванова", "Анна", "Петровна")),
    ("  ПЕТРОВ    иван  ", ("Петров", "Иван", None)),
    ("римский-корсаков николай андреевич", ("Римский-Корсаков", "Николай", "Андреевич")),
    ("Соловьёва анна-мария", ("Соловьёва", "Анна-Мария", None)),
])
def test_full_name_is_written_as_in_a_passport(typed: str, parts: tuple[str, str, str | None]) -> None:
    """R4: «Фамилия Имя Отчество», the patronymic may be absent; each part (and each half of a
    double-barrelled part) starts with a capital letter whatever the person typed."""
    assert validation.full_name(typed) == parts


@pytest.mark.parametrize("typed", ["Ivanova Anna", "Ивaнова Анна", "Иванова Анна 2", "Иванова Анна-"])
def test_full_name_in_latin_letters_or_with_symbols_is_refused(typed: str) -> None:
    """R4: Cyrillic letters only; «Ивaнова» with a Latin «a» inside is caught too."""
    error = refused(validation.full_name, typed)
    assert (error.field, error.reason) == ("full_name", "letters")


def test_full_name_needs_two_or_three_parts() -> None:
    assert refused(validation.full_name, "Иванова").reason == "parts"
    assert refused(validation.full_name, "").reason == "parts"
    assert refused(validation.full_name, "Иванова Анна Петровна Вторая").reason == "too_many_parts"


def test_a_name_part_longer_than_sixty_letters_is_refused() -> None:
    assert refused(validation.full_name, "А" * 61 + " Анна").reason == "too_long"
    assert validation.full_name("а" * 60 + " анна")[0] == "А" + "а" * 59


# --- Дата рождения ------------------------------------------------------------------------------


def test_birth_date_is_read_as_day_month_year() -> None:
    """R4: ДД.ММ.ГГГГ; 29 February only in a leap year; born today is fine."""
    assert validation.birth_date("01.02.1990", TODAY) == date(1990, 2, 1)
    assert validation.birth_date(" 29.02.2000 ", TODAY) == date(2000, 2, 29)
    assert validation.birth_date("30.11.2026", TODAY) == TODAY


@pytest.mark.parametrize("typed", ["1990-02-01", "01/02/1990", "31.02.1990", "29.02.2001", "01.13.1990", "", "вчера"])
def test_birth_date_in_another_format_or_impossible_is_refused(typed: str) -> None:
    error = refused(validation.birth_date, typed, TODAY)
    assert (error.field, error.reason) == ("birth_date", "format")


def test_birth_date_in_the_future_is_refused() -> None:
    tomorrow = TODAY + timedelta(days=1)
    assert refused(validation.birth_date, f"{tomorrow:%d.%m.%Y}", TODAY).reason == "future"


def test_birth_date_more_than_130_years_ago_is_refused() -> None:
    assert refused(validation.birth_date, "01.01.1890", TODAY).reason == "too_old"
    assert refused(validation.birth_date, "29.11.1895", TODAY).reason == "too_old"  # 131 since yesterday
    assert validation.birth_date("30.11.1896", TODAY) == date(1896, 11, 30)  # 130 today


def test_a_person_who_is_130_is_not_too_old() -> None:
    """R4: «too old» means older than 130 years, counted by birthdays, not by calendar years."""
    assert validation.birth_date("01.12.1895", TODAY) == date(1895, 12, 1)


# --- Телефон ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "+7 (912) 345-67-89", "8 912 345 67 89", "89123456789", "+79123456789", "7 912 345-67-89", "(912) 3456789",
    "  9123456789  ",
])
def test_phone_is_stored_as_plus_seven_and_ten_digits(typed: str) -> None:
    """R4: a Russian number however it is written: +7 or 8 in front, spaces, dashes, brackets."""
    assert validation.phone(typed) == "+79123456789"


def test_a_landline_with_its_city_code_is_a_phone_too() -> None:
    assert validation.phone("8 (812) 123-45-67") == "+78121234567"


@pytest.mark.parametrize("typed", ["+1 212 555 0100", "912 345 67", "8 912 345 67 890", "8-912-ABC-67-89",
                                   "+7 912 345 67 89 доб. 1", ""])
def test_a_phone_that_is_not_russian_or_not_a_number_is_refused(typed: str) -> None:
    error = refused(validation.phone, typed)
    assert (error.field, error.reason) == ("phone", "format")


# --- E-mail ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("  Anna.Petrova@Mail.RU ", "anna.petrova@mail.ru"),
    ("a+clinic@sub.example-hospital.ru", "a+clinic@sub.example-hospital.ru"),
])
def test_email_is_trimmed_and_lowercased(typed: str, stored: str) -> None:
    """R1: the address a log-in code goes to; the same address in capitals is the same address."""
    assert validation.email(typed) == stored


@pytest.mark.parametrize("typed", ["anna", "anna@", "@mail.ru", "anna@mail", "anna@@mail.ru", "anna petrova@mail.ru",
                                   "anna@mail..ru", "anna@-mail.ru", "", "a@" + "b" * 250 + ".ru"])
def test_an_address_that_cannot_receive_mail_is_refused(typed: str) -> None:
    error = refused(validation.email, typed)
    assert (error.field, error.reason) == ("email", "format")
