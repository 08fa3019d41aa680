"""Apply a parsed bundle in one transaction: match by external id, change only what differs (R22, R27).

The clinic's system is the source of truth for its schedule. The portal's own bookings are
protected: a slot booked through the portal stays booked whatever the bundle says, unless the
clinic withdraws (or moves) that time — then the portal appointment is cancelled and the account
that made it is told. A slot held for a waitlisted patient changes only when it leaves the
schedule (or is booked elsewhere); the pending offer is then void. Every slot that becomes free
goes to the waitlist in the same transaction (``offer_freed_slots``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from core import notify
from core.enums import AppointmentSource, AppointmentStatus, OfferStatus, SlotStatus, WaitlistStatus
from core.fhir.model import CANCELLED_BY, BundleRejected, Counts, ImportConfig, ImportReport, ParsedBundle
from core.fhir.parse import DEFAULT_CONFIG, parse_bundle
from core.waitlist import offer_freed_slots
from storage.db import Database
from storage.models import Appointment, Doctor, Organization, Slot, Specialty
from storage.uow import UnitOfWork

UNKNOWN = "is neither in the bundle nor imported before"

log = logging.getLogger(__name__)


def read_bundle_file(path: Path) -> Any:
    """The decoded JSON of a bundle file; a file that is not JSON is refused like a bad bundle."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleRejected("Bundle", "(json)", f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                                                 f"column {exc.colno}") from None
    except UnicodeDecodeError:
        raise BundleRejected("Bundle", "(json)", "not UTF-8 text") from None


async def import_bundle(db: Database, raw: Any, now: datetime, config: ImportConfig = DEFAULT_CONFIG) -> ImportReport:
    """Validate and import a decoded bundle atomically: all of it, or nothing (``BundleRejected``)."""
    bundle = parse_bundle(raw, config)
    async with db.write() as uow:
        report = await apply_bundle(uow, bundle, now, config)
        await uow.commit()
    return report


async def apply_bundle(uow: UnitOfWork, bundle: ParsedBundle, now: datetime,
                       config: ImportConfig = DEFAULT_CONFIG) -> ImportReport:
    """Apply inside the caller's transaction; the caller commits. Raises ``BundleRejected`` for
    references that resolve neither in the bundle nor in the database, and for contradictions."""
    report = await _Import(uow, bundle, now, config).run()
    _log_unused(report)
    return report


def _log_unused(report: ImportReport) -> None:
    """What was not used, for whoever watches the log: counts, systems and codes — no patient's numbers."""
    parts = []
    if report.without_patient.count:
        parts.append(f"appointments without a patient: {report.without_patient.count}")
    if report.unused_systems:
        parts.append("identifier systems not used: " + ", ".join(
            f"{system} ({t.count})" for system, t in sorted(report.unused_systems.items())))
    if report.unknown_sources:
        parts.append("appointments skipped for an unknown source: " + ", ".join(
            f"{code} ({t.count})" for code, t in sorted(report.unknown_sources.items())))
    if report.default_timezone.count:
        parts.append(f"new organizations given the region's time zone {report.region_timezone}: "
                     f"{report.default_timezone.count}")
    if parts:
        log.warning("FHIR import: %s", "; ".join(parts))


def _assign(row: object, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _tally(counts: Counts, listed: set[Any], created: set[Any], changed: set[Any]) -> None:
    counts.created = len(created)
    counts.updated = len(changed - created)
    counts.unchanged = len(listed - created - changed)


class _Import:
    def __init__(self, uow: UnitOfWork, bundle: ParsedBundle, now: datetime, config: ImportConfig) -> None:
        self.uow = uow
        self.bundle = bundle
        self.now = now
        self.config = config
        self.sync = uow.sync
        unused = bundle.unused
        self.report = ImportReport(warnings=list(bundle.warnings), without_patient=unused.without_patient,
                                   unused_systems=unused.identifier_systems, unknown_sources=unused.sources,
                                   region_timezone=config.default_timezone)

    async def run(self) -> ImportReport:
        orgs = await self._organizations()
        specialties = await self._specialties()
        await self.uow.flush()
        doctors = await self._doctors(orgs, specialties)
        await self.uow.flush()
        await self._slots(doctors)
        await self.uow.flush()
        await self._appointments()
        freed = await self._resolve_slots()
        await self.uow.flush()
        if freed:
            await offer_freed_slots(self.uow, freed, self.now)
            self.report.slots_freed = len(freed)
        if self.report.changed:
            r = self.report
            self.uow.audit.record(self.now, "clinic.import", details={
                "organizations": vars(r.organizations), "doctors": vars(r.doctors), "slots": vars(r.slots),
                "appointments": vars(r.appointments), "portal_cancelled": r.portal_cancelled,
            })
        return self.report

    # --- reference data ---

    async def _organizations(self) -> dict[str, Organization]:
        wanted = {o.external_id for o in self.bundle.organizations} | {r.organization_id for r in self.bundle.roles}
        rows = await self.sync.organizations(wanted)
        counts = self.report.organizations
        for org in self.bundle.organizations:
            values: dict[str, Any] = {"name": org.name, "address": org.address, "phone": org.phone}
            if org.timezone is not None:
                values["timezone"] = org.timezone
            row = rows.get(org.external_id)
            if row is None:
                if org.timezone is None:  # FHIR R4 has no field for it: the region's, and the report says so
                    values["timezone"] = self.config.default_timezone
                    self.report.default_timezone.add(f"Organization/{org.external_id}")
                row = Organization(external_id=org.external_id, waitlist_enabled=bool(org.waitlist_enabled), **values)
                self.sync.add(row)
                rows[org.external_id] = row
                counts.created += 1
                continue
            if org.waitlist_enabled is not None:
                values["waitlist_enabled"] = org.waitlist_enabled
            if _assign(row, values):
                counts.updated += 1
            else:
                counts.unchanged += 1
        return rows

    async def _specialties(self) -> dict[str, Specialty]:
        names = {r.specialty_code: r.specialty_name for r in self.bundle.roles}
        rows = await self.sync.specialties(names)
        counts = self.report.specialties
        for code, name in names.items():
            row = rows.get(code)
            if row is None:
                row = Specialty(code=code, name=name)
                self.sync.add(row)
                rows[code] = row
                counts.created += 1
            elif _assign(row, {"name": name}):
                counts.updated += 1
            else:
                counts.unchanged += 1
        return rows

    async def _doctors(self, orgs: dict[str, Organization], specialties: dict[str, Specialty]) -> dict[str, Doctor]:
        """A Doctor row is one PractitionerRole: a practitioner in one organization in one specialty."""
        roles = self.bundle.roles
        rows = await self.sync.doctors({r.external_id for r in roles} |
                                       {s.role_id for s in self.bundle.schedules.values()})
        counts = self.report.doctors
        for role in roles:
            org = orgs.get(role.organization_id)
            if org is None:
                raise BundleRejected(f"PractitionerRole/{role.external_id}", "organization",
                                     f"Organization/{role.organization_id} {UNKNOWN}")
            values: dict[str, Any] = {
                "full_name": role.full_name, "organization_id": org.id,
                "specialty_id": specialties[role.specialty_code].id, "cabinet": role.cabinet, "active": role.active,
            }
            row = rows.get(role.external_id)
            if row is None:
                row = Doctor(external_id=role.external_id, **values)
                self.sync.add(row)
                rows[role.external_id] = row
                counts.created += 1
            elif _assign(row, values):
                counts.updated += 1
            else:
                counts.unchanged += 1
        return rows

    # --- slots: times and doctors first, statuses once the appointments are known ---

    async def _slots(self, doctors: dict[str, Doctor]) -> None:
        schedule_doctor: dict[str, Doctor] = {}
        for schedule in self.bundle.schedules.values():
            doctor = doctors.get(schedule.role_id)
            if doctor is None:
                raise BundleRejected(f"Schedule/{schedule.external_id}", "actor",
                                     f"PractitionerRole/{schedule.role_id} {UNKNOWN}")
            schedule_doctor[schedule.external_id] = doctor

        self.slot_by_ext = await self.sync.slots({s.external_id for s in self.bundle.slots} |
                                                 {a.slot_id for a in self.bundle.appointments})
        self.prev_status: dict[Slot, SlotStatus | None] = {}
        self.bundle_status: dict[Slot, tuple[SlotStatus, str]] = {}
        self.listed_slots: set[Slot] = set()
        self.new_slots: set[Slot] = set()
        self.changed_slots: set[Slot] = set()
        self.moved: set[Slot] = set()
        new: list[Slot] = []
        for data in self.bundle.slots:
            doctor = schedule_doctor[data.schedule_id]
            row = self.slot_by_ext.get(data.external_id)
            if row is None:
                row = Slot(external_id=data.external_id, doctor_id=doctor.id, starts_at=data.starts_at,
                           ends_at=data.ends_at, status=data.status)
                new.append(row)
                self.slot_by_ext[data.external_id] = row
                self.new_slots.add(row)
                self.prev_status[row] = None
            else:
                self.prev_status[row] = row.status
                if row.doctor_id != doctor.id or row.starts_at != data.starts_at:
                    self.moved.add(row)
                if _assign(row, {"doctor_id": doctor.id, "starts_at": data.starts_at, "ends_at": data.ends_at}):
                    self.changed_slots.add(row)
            self.listed_slots.add(row)
            self.bundle_status[row] = (data.status, data.fhir_status)
        self.sync.add_all(new)

    # --- appointments made elsewhere ---

    async def _appointments(self) -> None:
        appointments = self.bundle.appointments
        rows = await self.sync.appointments({a.external_id for a in appointments})
        for a in appointments:
            if a.slot_id not in self.slot_by_ext:
                raise BundleRejected(f"Appointment/{a.external_id}", "slot[0]", f"Slot/{a.slot_id} {UNKNOWN}")
        involved = {s.id for s in self.slot_by_ext.values()} | {r.slot_id for r in rows.values()}
        self.active_on: dict[int, list[Appointment]] = defaultdict(list)
        self.active_on.update(await self.sync.active_appointments_on(involved))
        self.touched: set[int] = set()  # slot ids whose status depends on an appointment change
        self.listed_appts: set[Appointment] = set()
        self.new_appts: set[Appointment] = set()
        self.changed_appts: set[Appointment] = set()
        self.booked_here: set[Appointment] = set()

        # Pass 1: what leaves a slot (cancelled, or moved to another slot) goes first, so a slot
        # can be cancelled and rebooked in one bundle.
        for a in appointments:
            row = rows.get(a.external_id)
            if row is None or row.status != AppointmentStatus.ACTIVE:
                continue
            slot = self.slot_by_ext[a.slot_id]
            if a.status == AppointmentStatus.CANCELLED or row.slot_id != slot.id:
                self.active_on[row.slot_id].remove(row)
                self.touched.add(row.slot_id)
                if a.status == AppointmentStatus.CANCELLED:
                    await self.uow.appointments.cancel(row.id, self.now, by=CANCELLED_BY)
                    self.changed_appts.add(row)

        # Pass 2: create or update; an active one books its slot.
        for a in appointments:
            label = f"Appointment/{a.external_id}"
            slot = self.slot_by_ext[a.slot_id]
            row = rows.get(a.external_id)
            values: dict[str, Any] = {
                "slot_id": slot.id, "doctor_id": slot.doctor_id, "starts_at": slot.starts_at, "source": a.source,
                "patient_oms": a.patient_oms, "patient_snils": a.patient_snils, "status": a.status,
            }
            if a.status == AppointmentStatus.ACTIVE:
                self._check_bookable(label, a.slot_id, slot, row)
                values.update(cancelled_at=None, cancelled_by=None)
            if row is None:
                row = Appointment(external_id=a.external_id, created_at=self.now, patient_id=None,
                                  made_by_account_id=None, **values)
                if a.status == AppointmentStatus.CANCELLED:
                    row.cancelled_at, row.cancelled_by = self.now, CANCELLED_BY
                self.sync.add(row)
                self.new_appts.add(row)
            elif _assign(row, values):
                self.changed_appts.add(row)
            self.listed_appts.add(row)
            if a.status == AppointmentStatus.ACTIVE:
                self.active_on[slot.id].append(row)
                self.booked_here.add(row)
                self.touched.add(slot.id)

    def _check_bookable(self, label: str, slot_ref: str, slot: Slot, row: Appointment | None) -> None:
        for other in self.active_on[slot.id]:
            if other is row:
                continue
            who = ("an appointment made through the portal" if other.source == AppointmentSource.PORTAL
                   else f"Appointment/{other.external_id}")
            raise BundleRejected(label, "slot[0]", f"Slot/{slot_ref} is already booked by {who}")
        listed = self.bundle_status.get(slot)
        if listed is not None and listed[0] != SlotStatus.BOOKED:
            raise BundleRejected(label, "status", f"booked, but Slot/{slot_ref} has status {listed[1]!r} in the bundle")

    # --- final slot statuses ---

    async def _resolve_slots(self) -> list[int]:
        by_id = {s.id: s for s in self.slot_by_ext.values()}
        missing = self.touched - by_id.keys()
        by_id.update(await self.sync.slots_by_id(missing))
        freed: list[int] = []
        for slot_id in sorted({s.id for s in self.listed_slots} | self.touched):
            slot = by_id[slot_id]
            if await self._resolve(slot):
                freed.append(slot.id)
        _tally(self.report.slots, self.listed_slots, self.new_slots, self.changed_slots)
        _tally(self.report.appointments, self.listed_appts, self.new_appts, self.changed_appts)
        return freed

    async def _resolve(self, slot: Slot) -> bool:
        """Settle one slot's status; True if it became free (for the waitlist)."""
        prev = self.prev_status.get(slot, slot.status)
        listed, fhir_status = self.bundle_status.get(slot, (None, ""))
        moved = slot in self.moved
        actives = self.active_on.get(slot.id, [])
        portal = [x for x in actives if x.source == AppointmentSource.PORTAL]
        external = [x for x in actives if x.source != AppointmentSource.PORTAL]

        if portal and (listed == SlotStatus.WITHDRAWN or moved):
            for appointment in list(portal):
                if appointment.starts_at <= self.now:
                    self.report.warnings.append(
                        f"Slot/{slot.external_id}: {fhir_status or 'moved'} in the bundle, but its portal "
                        f"appointment {appointment.id} is already in the past; left as it is")
                    continue
                await self._cancel_portal(appointment)
                portal.remove(appointment)
        if listed in (SlotStatus.WITHDRAWN, SlotStatus.FREE):
            # The clinic says nobody is booked here: its own earlier booking, not in this bundle, is gone.
            for appointment in external:
                if await self.uow.appointments.cancel(appointment.id, self.now, by=CANCELLED_BY):
                    self.changed_appts.add(appointment)
            external = []
        for appointment in external:
            if _assign(appointment, {"starts_at": slot.starts_at, "doctor_id": slot.doctor_id}):
                self.changed_appts.add(appointment)

        if portal or external:
            target = SlotStatus.BOOKED
        elif listed is not None:
            target = listed
        else:  # not in the bundle; an appointment left it or booked it
            target = SlotStatus.FREE if prev == SlotStatus.BOOKED else slot.status
        if prev == SlotStatus.HELD:
            booked_elsewhere = any(x in self.booked_here for x in external)
            if target != SlotStatus.WITHDRAWN and not moved and not booked_elsewhere:
                target = SlotStatus.HELD  # offered to a waitlisted patient: only leaving the schedule ends that
            else:
                await self._void_hold(slot.id)
        if slot.status != target:
            slot.status = target
            self.changed_slots.add(slot)
        return target == SlotStatus.FREE and (prev != SlotStatus.FREE or moved)

    async def _cancel_portal(self, appointment: Appointment) -> None:
        """The clinic withdrew (or moved) a time booked through the portal: cancel it and tell the account."""
        if not await self.uow.appointments.cancel(appointment.id, self.now, by=CANCELLED_BY):
            return
        self.report.portal_cancelled += 1
        doctor = await self.uow.clinic.doctor(appointment.doctor_id)
        org = await self.uow.clinic.organization(doctor.organization_id) if doctor is not None else None
        if appointment.made_by_account_id is not None:
            payload = {
                "appointment_id": appointment.id,
                "patient_id": appointment.patient_id,
                "doctor": doctor.full_name if doctor is not None else "",
                "organization": org.name if org is not None else "",
                "starts_at": appointment.starts_at.isoformat(),
                "timezone": org.timezone if org is not None else "UTC",
            }
            self.report.notifications += await notify.to_account(
                self.uow, appointment.made_by_account_id, notify.Kind.APPOINTMENT_WITHDRAWN, payload, self.now)
        self.uow.audit.record(self.now, "appointment.withdrawn_by_clinic", account_id=appointment.made_by_account_id,
                              subject=f"appointment:{appointment.id}")

    async def _void_hold(self, slot_id: int) -> None:
        """A held slot left the schedule: the pending offer is void and the patient waits again.

        The attempt is not counted (R13): the patient did not decline. Confirm on an offer message
        already sent then meets a void offer and gets ``OfferGone``, as for any answered offer.
        """
        for offer in await self.sync.pending_offers_on([slot_id]):
            if await self.uow.waitlist.answer_offer(offer.id, OfferStatus.VOID, self.now):
                await self.uow.waitlist.set_status(offer.entry_id, WaitlistStatus.WAITING,
                                                   expected=[WaitlistStatus.OFFERED])
                self.report.offers_voided += 1
