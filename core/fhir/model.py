"""The accepted FHIR subset as plain data: what ``parse`` produces and ``apply`` consumes (R27).

Nothing here knows about pydantic or the database; see ``docs/fhir-import.md`` for the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.enums import AppointmentSource, AppointmentStatus, SlotStatus
from core.errors import DomainError

BASE = "http://medportal.example/fhir"
EXT_TIMEZONE = f"{BASE}/StructureDefinition/timezone"
EXT_WAITLIST = f"{BASE}/StructureDefinition/waitlist-enabled"
EXT_CABINET = f"{BASE}/StructureDefinition/cabinet"
EXT_SOURCE = f"{BASE}/StructureDefinition/appointment-source"
SID_OMS = f"{BASE}/sid/oms"
SID_SNILS = f"{BASE}/sid/snils"
# FHIR R4 Organization has no time zone field; this is HL7's standard extension for one (valueCode, IANA).
EXT_HL7_TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"
SPECIALTY_SYSTEM = f"{BASE}/CodeSystem/specialty"  # what the demo uses; any system is accepted

CANCELLED_BY = "clinic"  # Appointment.cancelled_by for everything the import cancels

# Identifier systems that name a patient, by kind. An OID also covers its sub-arcs: N3 names the
# insurer after the registry's OID (…635.<insurer code>). The settings FHIR_SNILS_SYSTEMS and
# FHIR_OMS_SYSTEMS replace these lists (docs/fhir-import.md).
DEFAULT_SNILS_SYSTEMS: tuple[str, ...] = (
    "urn:oid:1.2.643.100.3",  # ЕГИСЗ: СНИЛС
    "urn:oid:1.2.643.2.69.1.1.1.6.223",  # N3.Здравоохранение, document type 223: СНИЛС
    SID_SNILS,
)
DEFAULT_OMS_SYSTEMS: tuple[str, ...] = (
    "urn:oid:1.2.643.5.1.13.2.1.1.635",  # ФФОМС: registry of medical insurers (policy numbers under it)
    "urn:oid:1.2.643.2.69.1.1.1.6.228",  # N3.Здравоохранение, document type 228: единый полис ОМС
    SID_OMS,
)
DEFAULT_TIMEZONE = "Europe/Moscow"  # for an Organization that names none (FHIR_DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class ImportConfig:
    """What a region's systems send, as the import needs it; ``bot.config`` builds it from settings."""

    snils_systems: tuple[str, ...] = DEFAULT_SNILS_SYSTEMS
    oms_systems: tuple[str, ...] = DEFAULT_OMS_SYSTEMS
    default_timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.default_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {self.default_timezone!r}") from None
        both = set(self.snils_systems) & set(self.oms_systems)
        if both:
            raise ValueError(f"identifier system listed both for SNILS and for OMS: {', '.join(sorted(both))}")


class BundleRejected(DomainError):
    """A bundle the import refuses as a whole; nothing of it is written.

    ``resource`` names the culprit ("Slot/slot-123", or "Bundle" / "Bundle.entry[4]" when the
    resource cannot be named), ``field`` its FHIR path ("start", "extension[timezone]").
    """

    def __init__(self, resource: str, field: str, message: str) -> None:
        super().__init__(f"{resource}, field {field}: {message}")
        self.resource = resource
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OrgData:
    external_id: str
    name: str
    address: str | None
    phone: str | None
    timezone: str | None  # None: not in the bundle — the region default for a new organization, kept otherwise
    waitlist_enabled: bool | None  # None: the extension is absent — False for a new organization, kept otherwise


@dataclass(frozen=True)
class RoleData:
    """A PractitionerRole with its Practitioner's name: one Doctor row."""

    external_id: str
    full_name: str
    organization_id: str  # Organization external id: in the bundle or already known
    specialty_code: str
    specialty_name: str
    cabinet: str | None
    active: bool


@dataclass(frozen=True)
class ScheduleData:
    external_id: str
    role_id: str  # PractitionerRole external id: in the bundle or already known


@dataclass(frozen=True)
class SlotData:
    external_id: str
    schedule_id: str
    starts_at: datetime  # aware UTC
    ends_at: datetime
    status: SlotStatus  # FREE, BOOKED (busy elsewhere) or WITHDRAWN
    fhir_status: str


@dataclass(frozen=True)
class AppointmentData:
    external_id: str
    slot_id: str  # Slot external id: in the bundle or already known
    status: AppointmentStatus
    source: AppointmentSource
    patient_oms: str | None
    patient_snils: str | None


@dataclass
class Tally:
    """How many resources something happened to, and the first few of them by id.

    Ids are the clinic system's resource ids, never a patient's numbers: safe to print and log.
    """

    count: int = 0
    examples: list[str] = field(default_factory=list)

    SHOWN = 3

    def add(self, label: str) -> None:
        self.count += 1
        if len(self.examples) < self.SHOWN:
            self.examples.append(label)

    def __str__(self) -> str:
        more = ", …" if self.count > len(self.examples) else ""
        return f"{self.count} ({', '.join(self.examples)}{more})" if self.examples else str(self.count)


@dataclass
class Unused:
    """Parts of appointments the import could not use: counted, never dropped unseen."""

    without_patient: Tally = field(default_factory=Tally)  # no accepted SNILS or OMS policy
    identifier_systems: dict[str, Tally] = field(default_factory=dict)  # system → appointments carrying it
    sources: dict[str, Tally] = field(default_factory=dict)  # unknown source code → appointments skipped


@dataclass
class ParsedBundle:
    organizations: list[OrgData] = field(default_factory=list)
    roles: list[RoleData] = field(default_factory=list)
    schedules: dict[str, ScheduleData] = field(default_factory=dict)
    slots: list[SlotData] = field(default_factory=list)
    appointments: list[AppointmentData] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unused: Unused = field(default_factory=Unused)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class ImportReport:
    """What one import did. Importing the same bundle again gives zero created and updated."""

    organizations: Counts = field(default_factory=Counts)
    specialties: Counts = field(default_factory=Counts)
    doctors: Counts = field(default_factory=Counts)
    slots: Counts = field(default_factory=Counts)
    appointments: Counts = field(default_factory=Counts)
    portal_cancelled: int = 0  # portal appointments whose time the clinic withdrew or moved
    notifications: int = 0  # outbox messages written for them
    offers_voided: int = 0  # waitlist offers of slots that left the schedule
    slots_freed: int = 0  # slots handed to the waitlist (slots_freed)
    warnings: list[str] = field(default_factory=list)
    without_patient: Tally = field(default_factory=Tally)  # imported, but no accepted SNILS or OMS policy
    unused_systems: dict[str, Tally] = field(default_factory=dict)  # identifier system → appointments
    unknown_sources: dict[str, Tally] = field(default_factory=dict)  # source code → appointments skipped
    default_timezone: Tally = field(default_factory=Tally)  # new organizations given the region's zone
    region_timezone: str = DEFAULT_TIMEZONE

    @property
    def changed(self) -> bool:
        counts = (self.organizations, self.specialties, self.doctors, self.slots, self.appointments)
        return (any(c.created or c.updated for c in counts) or self.portal_cancelled > 0
                or self.offers_voided > 0)

    def lines(self) -> list[str]:
        out = [
            f"organizations: {self.organizations}",
            f"specialties:   {self.specialties}",
            f"doctors:       {self.doctors}",
            f"slots:         {self.slots}",
            f"appointments:  {self.appointments}",
        ]
        if self.portal_cancelled:
            out.append(f"portal appointments cancelled by the clinic: {self.portal_cancelled} "
                       f"({self.notifications} messages queued)")
        if self.offers_voided:
            out.append(f"waitlist offers voided: {self.offers_voided}")
        if self.slots_freed:
            out.append(f"free slots passed to the waitlist: {self.slots_freed}")
        out.append(f"appointments without a patient: {self.without_patient}")
        out.extend(f"appointments with identifier system {system} (not used): {n}"
                   for system, n in sorted(self.unused_systems.items()))
        out.extend(f"appointments skipped, unknown source {code!r}: {n}"
                   for code, n in sorted(self.unknown_sources.items()))
        if self.default_timezone.count:
            out.append(f"organizations given the region's time zone {self.region_timezone}: {self.default_timezone}")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out
