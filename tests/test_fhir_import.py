"""Import of clinic schedules and appointments from FHIR R4 bundles (R22, R27).

Runs on a SQLite file and, with TEST_POSTGRES_URL set, on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.booking import BookingService
from core.clock import FixedClock
from core.enums import (
    AppointmentSource,
    AppointmentStatus,
    AuthMethod,
    OfferStatus,
    SlotStatus,
    WaitlistStatus,
)
from core.fhir import BundleRejected, ImportReport, import_bundle, parse_bundle, read_bundle_file
from core.fhir.demo_bundle import DOCTORS, FULLY_BOOKED, build_demo_bundle, load_demo
from core.fhir.model import EXT_SOURCE, EXT_TIMEZONE, SID_OMS, SID_SNILS
from core.notify import Kind
from core.rules import RuleDefaults
from core.visits import VisitsService
from storage.db import Database
from storage.models import (
    Appointment,
    AuditEntry,
    Doctor,
    Offer,
    Organization,
    OutboxMessage,
    Slot,
    Specialty,
    WaitlistEntry,
)
from tests import factories

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fhir" / "small-bundle.json"
SLOT_0900 = "gp7-petrova-20261214-0900"  # busy: the registry appointment reg-000123
SLOT_0930 = "gp7-petrova-20261214-0930"  # free
SLOT_1100 = "gp7-petrova-20261214-1100"  # busy-unavailable
APPT = "reg-000123"
OMS = "7700000000000123"
SNILS = "11223344595"  # 112-233-445 95: a valid check number

LONG_ID = "x" * 65

Bundle = dict[str, Any]


def example() -> Bundle:
    return copy.deepcopy(read_bundle_file(EXAMPLE))


def resource(bundle: Bundle, type_name: str, resource_id: str) -> dict[str, Any]:
    for entry in bundle["entry"]:
        r = entry["resource"]
        if r["resourceType"] == type_name and r["id"] == resource_id:
            return r  # type: ignore[no-any-return]
    raise KeyError(f"{type_name}/{resource_id}")


def only(bundle: Bundle, *keep: str) -> Bundle:
    """The bundle with only the given resource types: an incremental export."""
    return {**bundle, "entry": [e for e in bundle["entry"] if e["resource"]["resourceType"] in keep]}


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the import may touch, for "nothing changed" comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as uow:
        for model in (Organization, Specialty, Doctor, Slot, Appointment, OutboxMessage, Offer, WaitlistEntry,
                      AuditEntry):
            columns = list(model.__table__.columns)
            rows = await uow.session.execute(select(*columns).order_by(columns[0]))
            out[model.__tablename__] = [tuple(r) for r in rows.all()]
    return out


async def slot(db: Database, external_id: str) -> Slot:
    async with db.read() as uow:
        row = await uow.slots.by_external(external_id)
    assert row is not None
    return row


async def appointment(db: Database, appointment_id: int | None = None, *,
                      external_id: str | None = None) -> Appointment:
    async with db.read() as uow:
        row = (await uow.appointments.get(appointment_id) if appointment_id is not None
               else await uow.appointments.by_external(external_id or ""))
    assert row is not None
    return row


def no_change(report: ImportReport) -> bool:
    counts = (report.organizations, report.specialties, report.doctors, report.slots, report.appointments)
    return not report.changed and all(c.created == 0 and c.updated == 0 for c in counts)


# --- the example bundle ------------------------------------------------------------------------


async def test_example_bundle_imports_with_counts(db: Database, clock: FixedClock) -> None:
    """R27: the README's example bundle creates one of each, five slots, one registry appointment."""
    report = await import_bundle(db, example(), clock.now())
    assert (report.organizations.created, report.specialties.created, report.doctors.created) == (1, 1, 1)
    assert (report.slots.created, report.appointments.created) == (5, 1)
    assert report.slots_freed == 3
    async with db.read() as uow:
        org = await uow.clinic.organization_by_external("gp7")
        doctor = await uow.clinic.doctor_by_external("gp7-petrova-therapist")
    assert org is not None and doctor is not None
    assert (org.timezone, org.waitlist_enabled, org.address) == ("Europe/Moscow", True, "ул. Мира, д. 5, г. Энск")
    assert (doctor.full_name, doctor.cabinet, doctor.organization_id) == ("Петрова Светлана Андреевна", "204", org.id)
    booked, free, withdrawn = await slot(db, SLOT_0900), await slot(db, SLOT_0930), await slot(db, SLOT_1100)
    assert (booked.status, free.status, withdrawn.status) == (SlotStatus.BOOKED, SlotStatus.FREE, SlotStatus.WITHDRAWN)
    assert booked.starts_at == datetime(2026, 12, 14, 6, 0, tzinfo=UTC)  # 09:00 Moscow, stored as UTC


async def test_appointment_source_and_oms_are_stored(db: Database, clock: FixedClock) -> None:
    """R22: an appointment made at the registry keeps its source and the patient's OMS policy."""
    await import_bundle(db, example(), clock.now())
    row = await appointment(db, external_id=APPT)
    booked = await slot(db, SLOT_0900)
    assert (row.source, row.status, row.patient_oms, row.patient_snils) == (
        AppointmentSource.REGISTRY, AppointmentStatus.ACTIVE, OMS, None)
    assert (row.slot_id, row.doctor_id, row.starts_at) == (booked.id, booked.doctor_id, booked.starts_at)
    assert row.patient_id is None and row.made_by_account_id is None


async def test_esia_owner_sees_imported_appointment_email_account_does_not(db: Database, clock: FixedClock) -> None:
    """R22, R21: the ESIA owner with that SNILS sees an appointment the doctor made (contained Patient
    with OMS and SNILS); an e-mail account with the same policy does not."""
    bundle = example()
    appt = resource(bundle, "Appointment", APPT)
    appt["extension"] = [{"url": EXT_SOURCE, "valueCode": "doctor"}]
    appt["contained"] = [{"resourceType": "Patient", "id": "p1", "identifier": [
        {"system": SID_OMS, "value": "7700 0000 0000 0999"}, {"system": SID_SNILS, "value": "112-233-445 95"},
        {"system": "urn:example:passport", "value": "4500 123456"}]}]
    appt["participant"] = [{"actor": {"reference": "#p1"}, "status": "accepted"}]
    await import_bundle(db, bundle, clock.now())
    row = await appointment(db, external_id=APPT)
    assert (row.source, row.patient_oms, row.patient_snils) == (AppointmentSource.DOCTOR, "7700000000000999", SNILS)

    esia, _ = await factories.account(db, 10, clock.now(), method=AuthMethod.ESIA, snils=SNILS)
    email, _ = await factories.account(db, 11, clock.now(), oms="7700000000000999")
    visits = VisitsService(db, clock, RuleDefaults())
    (owner_card,) = await visits.overview(esia)
    assert [(v.id, v.source) for v in owner_card.future] == [(row.id, AppointmentSource.DOCTOR)]
    (email_card,) = await visits.overview(email)
    assert email_card.future == []


async def test_portal_appointment_in_bundle_is_skipped(db: Database, clock: FixedClock) -> None:
    """R27: portal appointments are never imported back; the report says so."""
    bundle = example()
    resource(bundle, "Appointment", APPT)["extension"] = [{"url": EXT_SOURCE, "valueCode": "portal"}]
    report = await import_bundle(db, bundle, clock.now())
    assert report.appointments.created == 0
    assert any(f"Appointment/{APPT}" in w and "portal" in w for w in report.warnings)


# --- idempotence -------------------------------------------------------------------------------


async def test_same_bundle_twice_changes_nothing(db: Database, clock: FixedClock) -> None:
    """R27: importing the same bundle again creates and updates nothing, and writes nothing."""
    await import_bundle(db, example(), clock.now())
    before = await snapshot(db)
    clock.advance(timedelta(minutes=5))
    report = await import_bundle(db, example(), clock.now())
    assert no_change(report)
    assert (report.organizations.unchanged, report.doctors.unchanged, report.slots.unchanged,
            report.appointments.unchanged) == (1, 1, 5, 1)
    assert await snapshot(db) == before


async def test_changed_fields_are_updated_in_place(db: Database, clock: FixedClock) -> None:
    """R27: a renamed doctor, a new phone and a moved free slot update rows; nothing is duplicated."""
    await import_bundle(db, example(), clock.now())
    bundle = example()
    resource(bundle, "Practitioner", "pr-petrova")["name"][0]["family"] = "Петрова-Соколова"
    resource(bundle, "Organization", "gp7")["telecom"][0]["value"] = "+7 (800) 100-70-08"
    moved = resource(bundle, "Slot", SLOT_0930)
    moved["start"], moved["end"] = "2026-12-14T09:40:00+03:00", "2026-12-14T10:10:00+03:00"
    report = await import_bundle(db, bundle, clock.now())
    assert (report.organizations.updated, report.doctors.updated, report.slots.updated) == (1, 1, 1)
    assert report.slots.created == report.appointments.updated == 0
    assert (await slot(db, SLOT_0930)).starts_at == datetime(2026, 12, 14, 6, 40, tzinfo=UTC)
    async with db.read() as uow:
        doctor = await uow.clinic.doctor_by_external("gp7-petrova-therapist")
        assert doctor is not None and doctor.full_name == "Петрова-Соколова Светлана Андреевна"
        assert len(await uow.clinic.doctors()) == 1


async def test_incremental_bundle_of_schedule_and_slots(db: Database, clock: FixedClock) -> None:
    """R27: a later export may carry only Schedule and Slot resources; the schedule's PractitionerRole
    is found among the doctors imported before, and only the new day is added."""
    await import_bundle(db, example(), clock.now())
    bundle = only(example(), "Schedule", "Slot")
    next_day = copy.deepcopy(resource(bundle, "Slot", SLOT_0930))
    next_day.update(id="gp7-petrova-20261215-0930", start="2026-12-15T09:30:00+03:00",
                    end="2026-12-15T10:00:00+03:00")
    bundle["entry"].append({"resource": next_day})
    report = await import_bundle(db, bundle, clock.now())
    assert (report.slots.created, report.slots.updated, report.slots.unchanged) == (1, 0, 5)
    assert report.doctors.created == report.doctors.updated == 0
    assert (await slot(db, "gp7-petrova-20261215-0930")).status == SlotStatus.FREE


# --- malformed bundles -------------------------------------------------------------------------


def _drop_start(b: Bundle) -> None:
    del resource(b, "Slot", SLOT_0930)["start"]


def _no_offset(b: Bundle) -> None:
    resource(b, "Slot", SLOT_0930)["start"] = "2026-12-14T09:30:00"


def _bad_timezone(b: Bundle) -> None:
    resource(b, "Organization", "gp7")["extension"][0] = {"url": EXT_TIMEZONE, "valueString": "Europe/Atlantis"}


def _unknown_schedule(b: Bundle) -> None:
    resource(b, "Slot", SLOT_0930)["schedule"] = {"reference": "Schedule/nope"}


def _unknown_slot(b: Bundle) -> None:
    resource(b, "Appointment", APPT)["slot"] = [{"reference": "Slot/nope"}]


def _unknown_organization(b: Bundle) -> None:
    resource(b, "PractitionerRole", "gp7-petrova-therapist")["organization"] = {"reference": "Organization/nope"}


def _short_oms(b: Bundle) -> None:
    resource(b, "Appointment", APPT)["participant"][0]["actor"]["identifier"]["value"] = "770000000000012"


def _no_source(b: Bundle) -> None:
    del resource(b, "Appointment", APPT)["extension"]  # an unknown code is skipped and counted instead


def _long_id(b: Bundle) -> None:
    resource(b, "Slot", SLOT_0930)["id"] = LONG_ID


def _free_slot_with_booking(b: Bundle) -> None:
    resource(b, "Slot", SLOT_0900)["status"] = "free"


MALFORMED: list[tuple[Callable[[Bundle], None], str, str]] = [
    (_drop_start, f"Slot/{SLOT_0930}", "start"),
    (_no_offset, f"Slot/{SLOT_0930}", "start"),
    (_bad_timezone, "Organization/gp7", "extension[timezone]"),
    (_unknown_schedule, f"Slot/{SLOT_0930}", "schedule"),
    (_unknown_slot, f"Appointment/{APPT}", "slot[0]"),  # checked against the database, mid-transaction
    (_unknown_organization, "PractitionerRole/gp7-petrova-therapist", "organization"),
    (_short_oms, f"Appointment/{APPT}", "participant[0].actor.identifier.value"),
    (_no_source, f"Appointment/{APPT}", "extension[appointment-source]"),
    (_long_id, f"Slot/{LONG_ID}", "id"),
    (_free_slot_with_booking, f"Appointment/{APPT}", "status"),
]


@pytest.mark.parametrize(("spoil", "name", "field"), MALFORMED, ids=[m[0].__name__.strip("_") for m in MALFORMED])
async def test_malformed_bundle_is_refused_whole(db: Database, clock: FixedClock, spoil: Callable[[Bundle], None],
                                                 name: str, field: str) -> None:
    """R27: a malformed bundle is refused naming resource and field, and nothing of it is written —
    not even the valid changes that come before the problem (here: a renamed organization and a new slot)."""
    bundle = example()
    resource(bundle, "Organization", "gp7")["name"] = "Переименованная поликлиника"
    extra = copy.deepcopy(resource(bundle, "Slot", SLOT_0930))
    extra.update(id="gp7-petrova-20261214-1130", start="2026-12-14T11:30:00+03:00", end="2026-12-14T12:00:00+03:00")
    bundle["entry"].append({"resource": extra})
    spoil(bundle)
    for populated in (False, True):
        if populated:
            await import_bundle(db, example(), clock.now())
        before = await snapshot(db)
        with pytest.raises(BundleRejected) as info:
            await import_bundle(db, bundle, clock.now())
        assert (info.value.resource, info.value.field) == (name, field), info.value
        assert await snapshot(db) == before


def test_not_a_bundle_is_refused() -> None:
    with pytest.raises(BundleRejected) as info:
        parse_bundle({"resourceType": "Patient", "id": "x"})
    assert (info.value.resource, info.value.field) == ("Bundle", "resourceType")
    with pytest.raises(BundleRejected) as info:
        parse_bundle({"resourceType": "Bundle", "type": "collection",
                      "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}]})
    assert (info.value.resource, info.value.field) == ("Bundle.entry[0]", "resource.resourceType")


# --- withdrawals and cancellations -------------------------------------------------------------


async def _book_through_portal(db: Database, clock: FixedClock, external_id: str) -> tuple[int, int]:
    """A patient books the slot in the bot; returns (appointment id, telegram chat id)."""
    identity, (anna,) = await factories.account(db, 77, clock.now())
    booking = BookingService(db, clock)
    view = await booking.book(identity, anna.id, (await slot(db, external_id)).id)
    return view.id, identity.chat_id


async def test_withdrawn_slot_cancels_portal_appointment_and_tells_patient(db: Database, clock: FixedClock) -> None:
    """R27: the clinic withdraws a time booked through the portal: the appointment is cancelled by the
    clinic and the account that made it gets a message (outbox, same transaction)."""
    await import_bundle(db, example(), clock.now())
    clock.advance(timedelta(days=7))  # within the 14-day booking horizon
    appointment_id, chat_id = await _book_through_portal(db, clock, SLOT_0930)

    unaware = await import_bundle(db, example(), clock.now())  # the clinic still says "free": the booking stands
    assert no_change(unaware)
    assert (await slot(db, SLOT_0930)).status == SlotStatus.BOOKED

    bundle = example()
    resource(bundle, "Slot", SLOT_0930)["status"] = "busy-unavailable"
    report = await import_bundle(db, bundle, clock.now())
    assert (report.portal_cancelled, report.notifications, report.slots.updated) == (1, 1, 1)
    row = await appointment(db, appointment_id)
    assert (row.status, row.cancelled_by, row.cancelled_at) == (AppointmentStatus.CANCELLED, "clinic", clock.now())
    assert (await slot(db, SLOT_0930)).status == SlotStatus.WITHDRAWN
    async with db.read() as uow:
        (message,) = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == Kind.APPOINTMENT_WITHDRAWN))
    assert message.chat_id == chat_id
    assert message.payload == {
        "appointment_id": appointment_id, "patient_id": row.patient_id, "doctor": "Петрова Светлана Андреевна",
        "organization": "ГБУЗ «Городская поликлиника № 7»", "starts_at": "2026-12-14T06:30:00+00:00",
        "timezone": "Europe/Moscow",
    }
    before = await snapshot(db)
    assert no_change(await import_bundle(db, bundle, clock.now()))  # no second cancellation, no second message
    assert await snapshot(db) == before


async def test_external_cancellation_frees_the_slot(db: Database, clock: FixedClock) -> None:
    """R27: the registry cancels its appointment (a bundle with only the Appointment): the slot is free again."""
    await import_bundle(db, example(), clock.now())
    bundle = only(example(), "Appointment")
    resource(bundle, "Appointment", APPT)["status"] = "cancelled"
    report = await import_bundle(db, bundle, clock.now())
    assert (report.appointments.updated, report.slots.updated, report.slots_freed) == (1, 1, 1)
    row = await appointment(db, external_id=APPT)
    assert (row.status, row.cancelled_by) == (AppointmentStatus.CANCELLED, "clinic")
    assert (await slot(db, SLOT_0900)).status == SlotStatus.FREE
    assert no_change(await import_bundle(db, bundle, clock.now()))


async def _queue_for_petrova(db: Database, clock: FixedClock) -> int:
    identity, (anna,) = await factories.account(db, 55, clock.now())
    async with db.write() as uow:
        doctor = await uow.clinic.doctor_by_external("gp7-petrova-therapist")
        assert doctor is not None
        entry = await uow.waitlist.add(WaitlistEntry(
            patient_id=anna.id, account_id=identity.account_id, organization_id=doctor.organization_id,
            specialty_id=doctor.specialty_id, doctor_id=doctor.id, status=WaitlistStatus.WAITING, offers_used=0,
            queued_at=clock.now()))
        await uow.commit()
    return entry.id


async def test_freed_slot_goes_to_the_waitlist_and_withdrawal_voids_the_offer(db: Database, clock: FixedClock) -> None:
    """R10, R27: a slot freed by an external cancellation is offered to the queue in the same import;
    while held, "free"/"busy" from the clinic leave it alone; withdrawn, the offer is void and the
    patient waits again without losing an attempt (R13)."""
    await import_bundle(db, example(), clock.now())
    entry_id = await _queue_for_petrova(db, clock)

    cancelled = example()
    resource(cancelled, "Appointment", APPT)["status"] = "cancelled"
    resource(cancelled, "Slot", SLOT_0900)["status"] = "free"
    await import_bundle(db, cancelled, clock.now())
    held = await slot(db, SLOT_0900)
    assert held.status == SlotStatus.HELD
    async with db.read() as uow:
        (offer,) = await uow.waitlist.pending_offers_of_entries([entry_id])
    assert offer.slot_id == held.id

    assert no_change(await import_bundle(db, cancelled, clock.now()))
    assert (await slot(db, SLOT_0900)).status == SlotStatus.HELD

    withdrawn = copy.deepcopy(cancelled)
    resource(withdrawn, "Slot", SLOT_0900)["status"] = "busy-unavailable"
    report = await import_bundle(db, withdrawn, clock.now())
    assert report.offers_voided == 1
    assert (await slot(db, SLOT_0900)).status == SlotStatus.WITHDRAWN
    async with db.read() as uow:
        voided = await uow.waitlist.offer(offer.id)
        entry = await uow.waitlist.entry(entry_id)
    assert voided is not None and voided.status == OfferStatus.VOID
    assert entry is not None and (entry.status, entry.offers_used) == (WaitlistStatus.WAITING, 0)


async def test_registry_booking_of_a_held_slot_voids_the_offer(db: Database, clock: FixedClock) -> None:
    """R27: the registry books a time that is held for a waitlisted patient: the clinic's booking
    stands, the offer is void, and confirming it later cannot double-book (R7)."""
    await import_bundle(db, example(), clock.now())
    cancelled = only(example(), "Appointment")
    resource(cancelled, "Appointment", APPT)["status"] = "cancelled"
    await import_bundle(db, cancelled, clock.now())
    entry_id = await _queue_for_petrova(db, clock)
    async with db.write() as uow:  # what the reconcile job would do: offer the free time
        from core.waitlist import offer_freed_slots
        assert await offer_freed_slots(uow, [(await slot(db, SLOT_0900)).id], clock.now()) == 1
        await uow.commit()
    assert (await slot(db, SLOT_0900)).status == SlotStatus.HELD

    rebooked = only(example(), "Appointment")
    resource(rebooked, "Appointment", APPT)["id"] = "reg-000124"
    report = await import_bundle(db, rebooked, clock.now())
    assert (report.appointments.created, report.offers_voided) == (1, 1)
    assert (await slot(db, SLOT_0900)).status == SlotStatus.BOOKED
    async with db.read() as uow:
        assert await uow.waitlist.pending_offers_of_entries([entry_id]) == []


# --- the demo ----------------------------------------------------------------------------------


async def test_demo_loads_through_the_importer(db: Database, clock: FixedClock) -> None:
    """R27: the demo data is a FHIR bundle imported the same way: two organizations (one with a
    waitlist), six specialties, twelve doctors, 14 days, one doctor fully booked at the registry."""
    added = await load_demo(db, clock.now())
    assert added > 800
    async with db.read() as uow:
        orgs = {o.external_id: o.waitlist_enabled for o in await uow.clinic.organizations()}
        assert orgs == {"demo-gp1": True, "demo-crb": False}
        assert len(await uow.clinic.specialties()) == 6
        doctors = {d.external_id: d for d in await uow.clinic.doctors()}
        assert set(doctors) == {d[0] for d in DOCTORS}
        (busy_id,) = FULLY_BOOKED
        busy = doctors[busy_id]
        far = clock.now() + timedelta(days=15)
        assert await uow.slots.free_starts(busy.id, clock.now(), far) == []
        busy_slots = await uow.slots.day(busy.id, clock.now(), far)
        active = await uow.session.scalars(select(Appointment).where(
            Appointment.doctor_id == busy.id, Appointment.status == AppointmentStatus.ACTIVE))
        registry = list(active)
        assert busy_slots and len(registry) == len(busy_slots)
        assert all(a.source == AppointmentSource.REGISTRY and a.patient_oms and len(a.patient_oms) == 16
                   for a in registry)
        other = doctors["demo-doc-01"]
        assert len(await uow.slots.free_starts(other.id, clock.now(), far)) == len(busy_slots)
    assert await load_demo(db, clock.now()) == 0


async def test_demo_bundle_is_valid_json_fhir(clock: FixedClock) -> None:
    """The demo bundle survives a JSON round trip and parses like a clinic's file."""
    bundle = json.loads(json.dumps(build_demo_bundle(clock.now()), ensure_ascii=False))
    parsed = parse_bundle(bundle)
    assert (len(parsed.organizations), len(parsed.roles), len(parsed.schedules)) == (2, 12, 12)
    assert parsed.warnings == []
