"""An iCalendar (RFC 5545) file for a booked appointment, so it lands in the phone's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.booking import AppointmentView

VISIT_LENGTH = timedelta(minutes=30)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(view: AppointmentView, now: datetime) -> bytes:
    doctor = view.doctor
    where = ", ".join(p for p in (doctor.org.name, doctor.org.address, f"каб. {doctor.cabinet}"
                                   if doctor.cabinet else None) if p)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Regional medical portal//Appointment bot//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{view.id}@medportal-bot",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(view.starts_at)}",
        f"DTEND:{_stamp(view.starts_at + VISIT_LENGTH)}",
        f"SUMMARY:{_escape(f'Приём: {doctor.specialty.name}, {doctor.name}')}",
        f"LOCATION:{_escape(where)}",
        "BEGIN:VALARM",
        "TRIGGER:-PT2H",
        "ACTION:DISPLAY",
        "DESCRIPTION:Приём у врача",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
