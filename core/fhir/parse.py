"""Parse a FHIR R4 Bundle (JSON) into plain dataclasses, or refuse it naming resource and field.

Resources are validated with ``fhir.resources.R4B`` — fhir.resources 8.x ships R5 as its
default package, R4B and STU3; there is no plain R4 package. R4B (4.3.0) keeps the R4 shape
of every resource accepted here (Organization, Practitioner, PractitionerRole, Schedule, Slot,
Appointment), so an R4 bundle validates unchanged.

Pure: no database, no clock. References that may point at rows already in the database
(organization, schedule actor, appointment slot) are checked by ``apply``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from core.enums import AppointmentSource, AppointmentStatus, SlotStatus
from core.fhir.model import (
    EXT_CABINET,
    EXT_HL7_TIMEZONE,
    EXT_SOURCE,
    EXT_TIMEZONE,
    EXT_WAITLIST,
    AppointmentData,
    BundleRejected,
    ImportConfig,
    OrgData,
    ParsedBundle,
    RoleData,
    ScheduleData,
    SlotData,
    Tally,
)
from core.fhir.patient import Systems, patient_identity

ACCEPTED = ("Organization", "Practitioner", "PractitionerRole", "Schedule", "Slot", "Appointment")
BUNDLE_TYPES = {"collection", "batch", "transaction", "searchset"}

SLOT_STATUS = {
    "free": SlotStatus.FREE,
    "busy": SlotStatus.BOOKED,
    "busy-tentative": SlotStatus.BOOKED,
    "busy-unavailable": SlotStatus.WITHDRAWN,
    "entered-in-error": SlotStatus.WITHDRAWN,
}
APPOINTMENT_STATUS = {
    "booked": AppointmentStatus.ACTIVE,
    "arrived": AppointmentStatus.ACTIVE,
    "checked-in": AppointmentStatus.ACTIVE,
    "fulfilled": AppointmentStatus.ACTIVE,
    "cancelled": AppointmentStatus.CANCELLED,
    "noshow": AppointmentStatus.CANCELLED,
    "entered-in-error": AppointmentStatus.CANCELLED,
}
EXTERNAL_SOURCES = {s.value: s for s in AppointmentSource if s != AppointmentSource.PORTAL}
DEFAULT_CONFIG = ImportConfig()

# Lengths of the columns the values land in (storage/models.py).
MAX_ID, MAX_ORG_NAME, MAX_ADDRESS, MAX_PHONE = 64, 200, 300, 32
MAX_DOCTOR_NAME, MAX_SPECIALTY_CODE, MAX_SPECIALTY_NAME, MAX_CABINET = 200, 64, 120, 32

_REFERENCE = re.compile(r"^(?P<type>[A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")


def _reject(resource: str, field: str, message: str) -> BundleRejected:
    return BundleRejected(resource, field, message)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(resource)"


def _validate(type_name: str, raw: dict[str, Any], label: str) -> Any:
    try:
        return get_fhir_model_class(type_name).model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise _reject(label, _path(first["loc"]), f"{first['msg']}{more}") from None


def _text(label: str, field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    cleaned = " ".join(value.split()) if value else None
    if not cleaned:
        if required:
            raise _reject(label, field, "required")
        return None
    if len(cleaned) > limit:
        raise _reject(label, field, f"longer than {limit} characters")
    return cleaned


def _ref(label: str, field: str, reference: Any, expected: str) -> str:
    """The id of a literal ``Type/id`` reference to a resource of the expected type."""
    value = getattr(reference, "reference", None) if reference is not None else None
    if not value:
        raise _reject(label, field, f"required: a reference like {expected}/<id>")
    match = _REFERENCE.match(value)
    if match is None or match["type"] != expected:
        raise _reject(label, field, f"{value!r} is not a reference like {expected}/<id>")
    return match["id"]


def _extension(resource: Any, url: str) -> Any:
    return next((e for e in resource.extension or [] if e.url == url), None)


def _ext_field(url: str) -> str:
    return f"extension[{url.rsplit('/', 1)[-1]}]"


# --- resources ---------------------------------------------------------------------------------


def _organization(label: str, org: Any) -> OrgData:
    name = _text(label, "name", org.name, MAX_ORG_NAME, required=True)
    address = None
    if org.address:
        first = org.address[0]
        raw = first.text or ", ".join(p for p in [*(first.line or []), first.city] if p)
        address = _text(label, "address[0]", raw, MAX_ADDRESS)
    phone_raw = next((t.value for t in org.telecom or [] if t.system == "phone" and t.value), None)
    phone = _text(label, "telecom", phone_raw, MAX_PHONE)

    zone = _timezone(label, org)
    waitlist: bool | None = None
    wl_ext = _extension(org, EXT_WAITLIST)
    if wl_ext is not None:
        if wl_ext.valueBoolean is None:
            raise _reject(label, _ext_field(EXT_WAITLIST), "required: valueBoolean")
        waitlist = bool(wl_ext.valueBoolean)
    assert name is not None
    return OrgData(org.id, name, address, phone, zone, waitlist)


def _timezone(label: str, org: Any) -> str | None:
    """The IANA zone from the project's extension or HL7's standard one; None when neither is there."""
    field = "extension[timezone]"  # both extension urls end in /timezone
    named: list[tuple[str, str]] = []
    for url in (EXT_TIMEZONE, EXT_HL7_TIMEZONE):
        ext = _extension(org, url)
        if ext is None:
            continue
        zone = ext.valueCode or ext.valueString
        if not zone:
            raise _reject(label, field, f"required: valueCode with an IANA time zone such as Europe/Moscow "
                                        f"(extension url {url})")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _reject(label, field, f"unknown IANA time zone {zone!r} (extension url {url})") from None
        if len(zone) > MAX_ID:
            raise _reject(label, field, f"longer than {MAX_ID} characters")
        named.append((zone, url))
    if len({zone for zone, _ in named}) > 1:
        (first, first_url), (second, second_url) = named
        raise _reject(label, field, f"{first!r} ({first_url}) and {second!r} ({second_url}) differ")
    return named[0][0] if named else None


def _practitioner_name(label: str, practitioner: Any) -> str:
    names = practitioner.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None:
        raise _reject(label, "name", "required: family and given names")
    raw = " ".join([name.family, *(name.given or [])]) if name.family else name.text
    full = _text(label, "name[0]", raw, MAX_DOCTOR_NAME, required=True)
    assert full is not None
    return full


def _role(label: str, role: Any, practitioners: dict[str, Any],
          specialty_names: dict[str, tuple[str, str]]) -> RoleData:
    practitioner_id = _ref(label, "practitioner", role.practitioner, "Practitioner")
    practitioner = practitioners.get(practitioner_id)
    if practitioner is None:
        raise _reject(label, "practitioner", f"Practitioner/{practitioner_id} is not in the bundle")
    organization_id = _ref(label, "organization", role.organization, "Organization")
    coding = role.specialty[0].coding[0] if role.specialty and role.specialty[0].coding else None
    if coding is None:
        raise _reject(label, "specialty[0].coding[0]", "required: the doctor's specialty (code and display)")
    code = _text(label, "specialty[0].coding[0].code", coding.code, MAX_SPECIALTY_CODE, required=True)
    display = _text(label, "specialty[0].coding[0].display", coding.display, MAX_SPECIALTY_NAME, required=True)
    assert code is not None and display is not None
    seen = specialty_names.setdefault(code, (display, label))
    if seen[0] != display:
        raise _reject(label, "specialty[0].coding[0].display",
                      f"{display!r} differs from {seen[0]!r} given for code {code!r} in {seen[1]}")
    cabinet_ext = _extension(role, EXT_CABINET)
    cabinet = _text(label, _ext_field(EXT_CABINET), cabinet_ext.valueString if cabinet_ext else None, MAX_CABINET)
    active = role.active is not False and practitioner.active is not False
    return RoleData(role.id, _practitioner_name(f"Practitioner/{practitioner_id}", practitioner),
                    organization_id, code, display, cabinet, active)


def _schedule(label: str, schedule: Any) -> ScheduleData:
    roles = [a for a in schedule.actor or [] if (a.reference or "").startswith("PractitionerRole/")]
    if len(roles) != 1:
        raise _reject(label, "actor", "required: exactly one PractitionerRole/<id> reference")
    return ScheduleData(schedule.id, _ref(label, "actor", roles[0], "PractitionerRole"))


def _instant(label: str, field: str, value: datetime | None) -> datetime:
    if value is None:
        raise _reject(label, field, "required: an instant with a time zone offset")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _reject(label, field, "needs a time zone offset (e.g. 2026-12-01T09:00:00+03:00)")
    return value.astimezone(UTC)


def _slot(label: str, slot: Any, schedules: set[str]) -> SlotData:
    schedule_id = _ref(label, "schedule", slot.schedule, "Schedule")
    if schedule_id not in schedules:
        raise _reject(label, "schedule", f"Schedule/{schedule_id} is not in the bundle")
    starts = _instant(label, "start", slot.start)
    ends = _instant(label, "end", slot.end)
    if ends <= starts:
        raise _reject(label, "end", "must be after start")
    status = SLOT_STATUS.get(slot.status or "")
    if status is None:
        raise _reject(label, "status", f"{slot.status!r} is not one of {', '.join(SLOT_STATUS)}")
    return SlotData(slot.id, schedule_id, starts, ends, status, slot.status)


def _appointment(label: str, appointment: Any, bundle: ParsedBundle, systems: Systems) -> AppointmentData | None:
    source_ext = _extension(appointment, EXT_SOURCE)
    source_code = source_ext.valueCode if source_ext is not None else None
    if not source_code:
        raise _reject(label, _ext_field(EXT_SOURCE), f"required: valueCode, one of {', '.join(EXTERNAL_SOURCES)} "
                                                     f"(extension url {EXT_SOURCE})")
    if source_code == "portal":
        bundle.warnings.append(f"{label}: made through the portal; portal appointments are not imported back, skipped")
        return None
    source = EXTERNAL_SOURCES.get(source_code)
    if source is None:
        # A source the portal has no name for yet: skip the appointment, not the clinic's whole export.
        bundle.unused.sources.setdefault(source_code[:MAX_ID], Tally()).add(label)
        return None
    status = APPOINTMENT_STATUS.get(appointment.status or "")
    if status is None:
        raise _reject(label, "status", f"{appointment.status!r} is not one of {', '.join(APPOINTMENT_STATUS)}")
    if not appointment.slot or len(appointment.slot) != 1:
        raise _reject(label, "slot", "required: exactly one Slot/<id> reference")
    slot_id = _ref(label, "slot[0]", appointment.slot[0], "Slot")
    oms, snils = patient_identity(label, appointment, systems, bundle.unused)
    return AppointmentData(appointment.id, slot_id, status, source, oms, snils)


# --- the bundle --------------------------------------------------------------------------------


def parse_bundle(raw: Any, config: ImportConfig = DEFAULT_CONFIG) -> ParsedBundle:
    """Validate a decoded JSON bundle; raises ``BundleRejected`` at the first problem.

    What is accepted but not used (identifier systems, source codes) is counted in ``unused``.
    """
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise _reject("Bundle", "resourceType", "expected a FHIR Bundle object")
    entries = raw.get("entry", [])
    if not isinstance(entries, list):
        raise _reject("Bundle", "entry", "must be a list")
    shell = _validate("Bundle", {k: v for k, v in raw.items() if k != "entry"}, "Bundle")
    if shell.type not in BUNDLE_TYPES:
        raise _reject("Bundle", "type", f"{shell.type!r} is not one of {', '.join(sorted(BUNDLE_TYPES))}")

    by_type: dict[str, list[tuple[str, Any]]] = {name: [] for name in ACCEPTED}
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise _reject(where, "resource", "required: a resource object")
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") not in (None, "PUT", "POST"):
            raise _reject(where, "request.method", "only PUT and POST are accepted: every entry is an upsert")
        resource = entry["resource"]
        type_name = resource.get("resourceType")
        if type_name not in ACCEPTED:
            raise _reject(where, "resource.resourceType",
                          f"{type_name!r} is not accepted; one of {', '.join(ACCEPTED)}")
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            raise _reject(f"{type_name} ({where})", "id", "required: the clinic system's id of the resource")
        label = f"{type_name}/{resource_id}"
        if len(resource_id) > MAX_ID:
            raise _reject(label, "id", f"longer than {MAX_ID} characters (FHIR's limit for ids)")
        if (type_name, resource_id) in seen:
            raise _reject(label, "id", "appears twice in the bundle")
        seen.add((type_name, resource_id))
        by_type[type_name].append((label, _validate(type_name, resource, label)))

    bundle = ParsedBundle()
    bundle.organizations = [_organization(label, org) for label, org in by_type["Organization"]]
    practitioners = {p.id: p for _, p in by_type["Practitioner"]}
    specialty_names: dict[str, tuple[str, str]] = {}
    bundle.roles = [_role(label, role, practitioners, specialty_names) for label, role in by_type["PractitionerRole"]]
    bundle.schedules = {s.id: _schedule(label, s) for label, s in by_type["Schedule"]}
    bundle.slots = [_slot(label, slot, set(bundle.schedules)) for label, slot in by_type["Slot"]]
    systems = Systems(config)
    for label, appointment in by_type["Appointment"]:
        data = _appointment(label, appointment, bundle, systems)
        if data is not None:
            bundle.appointments.append(data)
    return bundle
