"""An iCalendar (RFC 5545) file for a booked appointment, so it lands in the phone's calendar.

Built with ``icalendar``: it escapes the text and folds long lines at 75 octets, as the RFC asks
(a clinic's name and address easily pass that in Cyrillic, two octets a letter).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from core.booking import AppointmentView

REMIND_BEFORE = timedelta(hours=2)


def appointment_ics(view: AppointmentView, now: datetime) -> bytes:
    doctor = view.doctor
    where = ", ".join(p for p in (doctor.org.name, doctor.org.address, f"каб. {doctor.cabinet}"
                                   if doctor.cabinet else None) if p)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Приём у врача")
    alarm.add("trigger", -REMIND_BEFORE)
    event = Event()
    event.add("uid", f"appointment-{view.id}@medportal-bot")
    event.add("dtstamp", now)
    event.add("dtstart", view.starts_at)
    if view.ends_at is not None:  # without DTEND the calendar shows the start only (RFC 5545, 3.6.1)
        event.add("dtend", view.ends_at)
    event.add("summary", f"Приём: {doctor.specialty.name}, {doctor.name}")
    event.add("location", where)
    event.add_component(alarm)
    calendar = Calendar()
    calendar.add("prodid", "-//Regional medical portal//Appointment bot//RU")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    data: bytes = calendar.to_ical()  # typed loosely by icalendar
    return data
