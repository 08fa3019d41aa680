"""The demo clinic data as a FHIR bundle, so the demo loads exactly like a clinic's export (R27).

Two organizations (one with waitlists, one without), six specialties, twelve doctors, 14 days
of weekday slots from "today" in each organization's time zone, and one doctor fully booked by
registry appointments. The tables live in ``storage.demo``; ids match what its earlier loader
wrote, so an existing demo database is updated in place, not duplicated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.fhir.model import (
    EXT_CABINET,
    EXT_SOURCE,
    EXT_TIMEZONE,
    EXT_WAITLIST,
    SID_OMS,
    SPECIALTY_SYSTEM,
)
from storage.demo import DAY_TIMES, DAYS, DOCTORS, FULLY_BOOKED, ORGS, SLOT_LENGTH, SPECIALTIES, _workdays


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource}


def _organization(org: Any) -> dict[str, Any]:
    return {
        "resourceType": "Organization", "id": org.external_id, "name": org.name,
        "address": [{"text": org.address}],
        "telecom": [{"system": "phone", "value": org.phone}],
        "extension": [
            {"url": EXT_TIMEZONE, "valueString": org.timezone},
            {"url": EXT_WAITLIST, "valueBoolean": org.waitlist_enabled},
        ],
    }


def build_demo_bundle(now: datetime) -> dict[str, Any]:
    """The demo bundle for the day of ``now``: slots that start after ``now``, in each clinic's zone."""
    specialty_names = dict(SPECIALTIES)
    zones = {org.external_id: ZoneInfo(org.timezone) for org in ORGS}
    entries = [_entry(_organization(org)) for org in ORGS]
    slots: list[dict[str, Any]] = []
    appointments: list[dict[str, Any]] = []
    for number, (role_id, name, org_id, specialty, cabinet) in enumerate(DOCTORS, start=1):
        family, given, *middle = name.split()
        practitioner_id = f"demo-pr-{number:02d}"
        schedule_id = f"demo-sch-{number:02d}"
        entries.append(_entry({
            "resourceType": "Practitioner", "id": practitioner_id,
            "name": [{"use": "official", "family": family, "given": [given, *middle]}],
        }))
        entries.append(_entry({
            "resourceType": "PractitionerRole", "id": role_id, "active": True,
            "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
            "organization": {"reference": f"Organization/{org_id}"},
            "specialty": [{"coding": [{"system": SPECIALTY_SYSTEM, "code": specialty,
                                       "display": specialty_names[specialty]}]}],
            "extension": [{"url": EXT_CABINET, "valueString": cabinet}],
        }))
        entries.append(_entry({
            "resourceType": "Schedule", "id": schedule_id, "active": True,
            "actor": [{"reference": f"PractitionerRole/{role_id}"}],
        }))
        zone = zones[org_id]
        booked = role_id in FULLY_BOOKED
        for day in _workdays(now.astimezone(zone).date(), DAYS):
            for start_time in DAY_TIMES:
                starts = datetime.combine(day, start_time, zone)
                if starts <= now:
                    continue
                slot_id = f"{role_id}-{day:%Y%m%d}-{start_time:%H%M}"
                slots.append(_entry({
                    "resourceType": "Slot", "id": slot_id,
                    "schedule": {"reference": f"Schedule/{schedule_id}"},
                    "status": "busy" if booked else "free",
                    "start": starts.isoformat(), "end": (starts + SLOT_LENGTH).isoformat(),
                }))
                if booked:
                    # Taken at the registry by people who are not in the bot.
                    oms = f"9{number:02d}{day:%Y%m%d}{start_time:%H%M}0"
                    appointments.append(_entry({
                        "resourceType": "Appointment", "id": f"appt-{slot_id}", "status": "booked",
                        "extension": [{"url": EXT_SOURCE, "valueCode": "registry"}],
                        "slot": [{"reference": f"Slot/{slot_id}"}],
                        "participant": [{
                            "actor": {"type": "Patient", "identifier": {"system": SID_OMS, "value": oms}},
                            "status": "accepted",
                        }],
                    }))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries + slots + appointments}
