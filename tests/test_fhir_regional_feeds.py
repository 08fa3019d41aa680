"""What regional clinic systems actually send (R21, R22, R27): national identifier systems on an
untyped participant, the standard time zone extension or none, and every part not used counted.

Runs on a SQLite file and, with TEST_POSTGRES_URL set, on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import Settings
from core.clock import FixedClock
from core.enums import AppointmentSource, AuthMethod
from core.fhir import BundleRejected, ImportConfig, import_bundle, parse_bundle
from core.fhir.model import (
    DEFAULT_OMS_SYSTEMS,
    DEFAULT_SNILS_SYSTEMS,
    DEFAULT_TIMEZONE,
    EXT_HL7_TIMEZONE,
    EXT_SOURCE,
    EXT_TIMEZONE,
    SID_OMS,
    SID_SNILS,
)
from core.rules import RuleDefaults
from core.visits import VisitsService
from storage.db import Database
from tests import factories
from tests.test_fhir_import import APPT, EXAMPLE, OMS, SNILS, Bundle, appointment, example, resource

ROOT = Path(__file__).resolve().parent.parent
SNILS_OID = "urn:oid:1.2.643.100.3"  # ЕГИСЗ: СНИЛС
N3_SNILS = "urn:oid:1.2.643.2.69.1.1.1.6.223"  # N3.Здравоохранение, документ 223: СНИЛС
SMO_REGISTRY = "urn:oid:1.2.643.5.1.13.2.1.1.635"  # ФФОМС: реестр страховых медицинских организаций
N3_ENP = "urn:oid:1.2.643.2.69.1.1.1.6.228"  # N3, документ 228: полис ОМС единого образца
PASSPORT = "urn:oid:1.2.643.2.69.1.1.1.6.14"
DOCTOR = {"actor": {"reference": "Practitioner/pr-petrova"}, "status": "accepted"}


def with_participants(*participants: dict[str, Any]) -> Bundle:
    bundle = example()
    resource(bundle, "Appointment", APPT)["participant"] = [DOCTOR, *participants]
    return bundle


def untyped(system: str, value: str) -> dict[str, Any]:
    """A participant as regional systems send it: an identifier and no ``type``."""
    return {"actor": {"identifier": {"system": system, "value": value}}, "status": "accepted"}


def identity(bundle: Bundle, config: ImportConfig | None = None) -> tuple[str | None, str | None]:
    parsed = parse_bundle(bundle, config) if config is not None else parse_bundle(bundle)
    (a,) = parsed.appointments
    return a.patient_oms, a.patient_snils


# --- national identifier systems ---------------------------------------------------------------


async def test_esia_owner_sees_a_registry_visit_named_by_national_snils(db: Database, clock: FixedClock) -> None:
    """R22: the registry names the patient by SNILS under the national OID on an actor with no type;
    the ESIA owner with that SNILS sees the visit in the card file."""
    report = await import_bundle(db, with_participants(untyped(SNILS_OID, "112-233-445 95")), clock.now())
    row = await appointment(db, external_id=APPT)
    assert (row.patient_snils, row.patient_oms) == (SNILS, None)
    assert report.without_patient.count == 0

    owner, _ = await factories.account(db, 10, clock.now(), method=AuthMethod.ESIA, snils=SNILS)
    (card,) = await VisitsService(db, clock, RuleDefaults()).overview(owner)
    assert [(v.id, v.source) for v in card.future] == [(row.id, AppointmentSource.REGISTRY)]


@pytest.mark.parametrize(("system", "value", "expected"), [
    (SNILS_OID, "11223344595", (None, SNILS)),
    (SNILS_OID, "112 233 445 95", (None, SNILS)),
    (N3_SNILS, "112-233-44595", (None, SNILS)),
    (SID_SNILS, "112-233-445 95", (None, SNILS)),
    (SMO_REGISTRY, OMS, (OMS, None)),
    (f"{SMO_REGISTRY}.23607", "7700 0000 0000 0123", (OMS, None)),  # N3 names the insurer as a sub-arc
    (N3_ENP, OMS, (OMS, None)),
    (SID_OMS, OMS, (OMS, None)),
    ("1.2.643.100.3", SNILS, (None, SNILS)),  # an OID sent without its urn:oid: prefix
], ids=["snils", "snils-spaces", "n3-snils", "own-snils", "smo-registry", "smo-insurer", "n3-enp", "own-oms",
        "bare-oid"])
def test_national_identifier_systems_are_accepted_by_default(system: str, value: str,
                                                             expected: tuple[str | None, str | None]) -> None:
    assert identity(with_participants(untyped(system, value))) == expected


def test_patient_typed_actor_and_contained_patient_take_national_systems() -> None:
    typed = {"actor": {"type": "Patient", "identifier": {"system": SMO_REGISTRY, "value": OMS}}, "status": "accepted"}
    assert identity(with_participants(typed)) == (OMS, None)
    bundle = with_participants({"actor": {"reference": "#p"}, "status": "accepted"})
    resource(bundle, "Appointment", APPT)["contained"] = [{"resourceType": "Patient", "id": "p", "identifier": [
        {"system": N3_ENP, "value": OMS}, {"system": SNILS_OID, "value": "112-233-445 95"},
        {"system": PASSPORT, "value": "4500:123456"}]}]
    assert identity(bundle) == (OMS, SNILS)


def test_a_practitioner_actor_is_not_the_patient() -> None:
    """The doctor's own SNILS (a typed Practitioner actor) never becomes the patient's."""
    doctor = {"actor": {"type": "Practitioner", "identifier": {"system": SNILS_OID, "value": "112-233-445 95"}},
              "status": "accepted"}
    assert identity(with_participants(doctor, untyped(SMO_REGISTRY, OMS))) == (OMS, None)


def test_the_systems_are_a_setting() -> None:
    """A region whose systems differ lists its own; the national defaults then no longer apply."""
    config = ImportConfig(snils_systems=("urn:oid:1.2.3.4",), oms_systems=("urn:region:oms",))
    assert identity(with_participants(untyped("urn:oid:1.2.3.4", SNILS)), config) == (None, SNILS)
    assert identity(with_participants(untyped("urn:region:oms", OMS)), config) == (OMS, None)
    assert identity(with_participants(untyped(SNILS_OID, SNILS)), config) == (None, None)


def test_an_invalid_national_snils_is_refused_naming_the_field_not_the_value() -> None:
    with pytest.raises(BundleRejected) as info:
        parse_bundle(with_participants(untyped(SNILS_OID, "112-233-445 96")))
    assert (info.value.resource, info.value.field) == (f"Appointment/{APPT}", "participant[1].actor.identifier.value")
    assert "112" not in info.value.message


def test_settings_give_the_import_its_systems_and_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    defaults = Settings(_env_file=None).fhir_import  # type: ignore[call-arg]
    assert defaults == ImportConfig()
    assert (defaults.snils_systems, defaults.oms_systems, defaults.default_timezone) == (
        DEFAULT_SNILS_SYSTEMS, DEFAULT_OMS_SYSTEMS, DEFAULT_TIMEZONE)
    assert SNILS_OID in DEFAULT_SNILS_SYSTEMS and SMO_REGISTRY in DEFAULT_OMS_SYSTEMS

    monkeypatch.setenv("FHIR_SNILS_SYSTEMS", f" {SNILS_OID}, urn:region:snils ,")
    monkeypatch.setenv("FHIR_OMS_SYSTEMS", "urn:region:oms")
    monkeypatch.setenv("FHIR_DEFAULT_TIMEZONE", "Asia/Yekaterinburg")
    config = Settings(_env_file=None).fhir_import  # type: ignore[call-arg]
    assert config == ImportConfig((SNILS_OID, "urn:region:snils"), ("urn:region:oms",), "Asia/Yekaterinburg")

    monkeypatch.setenv("FHIR_DEFAULT_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValidationError, match="Europe/Atlantis"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("FHIR_DEFAULT_TIMEZONE", "Europe/Moscow")
    monkeypatch.setenv("FHIR_OMS_SYSTEMS", SNILS_OID)
    with pytest.raises(ValidationError, match="both"):
        Settings(_env_file=None)  # type: ignore[call-arg]


# --- the organization's time zone --------------------------------------------------------------


def _zone_extensions(bundle: Bundle, *extensions: dict[str, Any]) -> None:
    org = resource(bundle, "Organization", "gp7")
    org["extension"] = [e for e in org["extension"] if e["url"] != EXT_TIMEZONE] + list(extensions)


async def test_standard_time_zone_extension_is_accepted(db: Database, clock: FixedClock) -> None:
    bundle = example()
    _zone_extensions(bundle, {"url": EXT_HL7_TIMEZONE, "valueCode": "Asia/Yekaterinburg"})
    await import_bundle(db, bundle, clock.now())
    async with db.read() as uow:
        org = await uow.clinic.organization_by_external("gp7")
    assert org is not None and org.timezone == "Asia/Yekaterinburg"


async def test_no_time_zone_takes_the_region_default_and_keeps_a_known_one(db: Database, clock: FixedClock) -> None:
    """R27: FHIR R4 Organization has no time zone; a bundle without one is not refused. A new
    organization gets the region's default (reported); a known one keeps the zone it has."""
    bundle = example()
    _zone_extensions(bundle)
    report = await import_bundle(db, bundle, clock.now(), ImportConfig(default_timezone="Asia/Novosibirsk"))
    assert report.organizations.created == 1
    assert (report.default_timezone.count, report.default_timezone.examples) == (1, ["Organization/gp7"])
    assert any("Asia/Novosibirsk" in line and "Organization/gp7" in line for line in report.lines())
    async with db.read() as uow:
        org = await uow.clinic.organization_by_external("gp7")
    assert org is not None and org.timezone == "Asia/Novosibirsk"

    again = await import_bundle(db, bundle, clock.now())  # the default is Europe/Moscow now
    assert (again.organizations.unchanged, again.default_timezone.count) == (1, 0)
    async with db.read() as uow:
        org = await uow.clinic.organization_by_external("gp7")
    assert org is not None and org.timezone == "Asia/Novosibirsk"


@pytest.mark.parametrize("extensions", [
    [{"url": EXT_HL7_TIMEZONE, "valueCode": "Europe/Atlantis"}],
    [{"url": EXT_HL7_TIMEZONE, "valueCode": "Asia/Omsk"}, {"url": EXT_TIMEZONE, "valueString": "Europe/Moscow"}],
], ids=["unknown", "contradicting"])
def test_a_bad_time_zone_is_still_refused(extensions: list[dict[str, Any]]) -> None:
    bundle = example()
    _zone_extensions(bundle, *extensions)
    with pytest.raises(BundleRejected) as info:
        parse_bundle(bundle)
    assert (info.value.resource, info.value.field) == ("Organization/gp7", "extension[timezone]")
    assert extensions[0]["valueCode"] in info.value.message


# --- nothing silently dropped ------------------------------------------------------------------


def _second_appointment(bundle: Bundle, appointment_id: str, source: str, *participants: dict[str, Any]) -> None:
    """Another appointment on a slot the bundle calls busy."""
    slot = resource(bundle, "Slot", "gp7-petrova-20261214-1000")
    slot["status"] = "busy"
    bundle["entry"].append({"resource": {
        "resourceType": "Appointment", "id": appointment_id, "status": "booked",
        "extension": [{"url": EXT_SOURCE, "valueCode": source}],
        "slot": [{"reference": "Slot/gp7-petrova-20261214-1000"}],
        "participant": [DOCTOR, *participants]}})


async def test_what_is_not_used_is_counted_and_logged_without_personal_data(
        db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    """R27: an identifier system nobody configured, a patient named by nothing the portal knows and
    an unknown source code do not refuse the bundle and are not dropped unseen: the report counts
    them with the appointments' ids, the log counts them without SNILS or OMS numbers."""
    bundle = with_participants(untyped(PASSPORT, "4500:123456"), untyped(SNILS_OID, "112-233-445 95"))
    _second_appointment(bundle, "eq-1", "callcenter", untyped(SMO_REGISTRY, OMS))
    bundle["entry"].append({"resource": {
        "resourceType": "Appointment", "id": "doc-7", "status": "cancelled",
        "extension": [{"url": EXT_SOURCE, "valueCode": "doctor"}],
        "slot": [{"reference": "Slot/gp7-petrova-20261214-1030"}],
        "participant": [DOCTOR, {"actor": {"reference": "Patient/12345"}, "status": "accepted"},
                        untyped(PASSPORT, "4500:654321"), untyped("urn:oid:1.2.643.2.69.1.1.1.6.226", "12-34")]}})
    with caplog.at_level(logging.INFO):
        report = await import_bundle(db, bundle, clock.now())

    assert report.appointments.created == 2  # reg-000123 and doc-7; eq-1 is skipped
    assert (report.without_patient.count, report.without_patient.examples) == (1, ["Appointment/doc-7"])
    assert {s: (t.count, t.examples) for s, t in report.unused_systems.items()} == {
        PASSPORT: (2, [f"Appointment/{APPT}", "Appointment/doc-7"]),
        "urn:oid:1.2.643.2.69.1.1.1.6.226": (1, ["Appointment/doc-7"]),
    }
    skipped = {code: (t.count, t.examples) for code, t in report.unknown_sources.items()}
    assert skipped == {"callcenter": (1, ["Appointment/eq-1"])}
    assert await appointment(db, external_id=APPT) is not None
    async with db.read() as uow:
        assert await uow.appointments.by_external("eq-1") is None

    text = "\n".join(report.lines())
    assert "appointments without a patient: 1" in text and "Appointment/doc-7" in text
    assert PASSPORT in text and "'callcenter'" in text and "Appointment/eq-1" in text
    logged = caplog.text
    assert "appointments without a patient: 1" in logged and PASSPORT in logged and "callcenter" in logged
    for secret in (SNILS, "112-233-445 95", OMS, "4500:123456", "4500:654321"):
        assert secret not in logged


def test_example_bundle_reports_no_appointment_without_a_patient(tmp_path: Path) -> None:
    """The documented command prints the new count (the example's appointment has an OMS policy)."""
    env = {**os.environ, "BOT_TOKEN": "1:x", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "import-fhir", str(EXAMPLE)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "appointments:  1 created" in done.stdout
    assert "appointments without a patient: 0" in done.stdout


def test_env_example_lists_the_code_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    for name in ("FHIR_SNILS_SYSTEMS", "FHIR_OMS_SYSTEMS", "FHIR_DEFAULT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert all(f"\n{name}=" in text for name in ("FHIR_SNILS_SYSTEMS", "FHIR_OMS_SYSTEMS", "FHIR_DEFAULT_TIMEZONE"))
    assert Settings(_env_file=ROOT / ".env.example").fhir_import == ImportConfig()  # type: ignore[call-arg]
