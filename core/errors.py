"""Domain errors. The bot turns each into friendly Russian text (``bot/texts/errors.py``)."""

from __future__ import annotations

from datetime import datetime

from core.enums import ModerationStatus


class DomainError(Exception):
    """A rule said no. Never a bug: the user gets an explanation, the log gets no traceback."""


class NotLoggedIn(DomainError):
    pass


class ConsentRequired(DomainError):
    pass


class NotAllowed(DomainError):
    """The caller has no right to this action (not staff, not their person, not their booking)."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    """Typed data failed validation; ``field`` and ``reason`` tell which and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CodeExpired(DomainError):
    pass


class CodeWrong(DomainError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(attempts_left)
        self.attempts_left = attempts_left


class TooManyAttempts(DomainError):
    pass


class ResendTooSoon(DomainError):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class LoginStateInvalid(DomainError):
    """An ESIA callback whose ``state`` is unknown, used or expired."""


class EsiaUnavailable(DomainError):
    pass


class PersonNotConfirmed(DomainError):
    """R2: booking, queueing and cancelling need data a moderator has confirmed."""

    def __init__(self, status: ModerationStatus, reason: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.reason = reason


class AlreadyDecided(DomainError):
    def __init__(self, status: ModerationStatus) -> None:
        super().__init__(status)
        self.status = status


class HasFutureAppointments(DomainError):
    pass


class OwnerCannotBeRemoved(DomainError):
    pass


class SlotTaken(DomainError):
    """R7: somebody else got the time first, or it is held for a waitlisted patient."""


class SlotInPast(DomainError):
    pass


class BeyondHorizon(DomainError):
    pass


class OnePerDoctor(DomainError):
    """A patient holds at most one future appointment per doctor."""

    def __init__(self, starts_at: datetime) -> None:
        super().__init__(starts_at)
        self.starts_at = starts_at


class CutoffPassed(DomainError):
    """R17: cancelling closed at ``deadline`` (UTC); the registry has prepared its lists."""

    def __init__(self, deadline: datetime, phone: str | None) -> None:
        super().__init__(deadline)
        self.deadline = deadline
        self.phone = phone


class AlreadyCancelled(DomainError):
    pass


class WaitlistClosed(DomainError):
    """R8: the doctor's organization does not keep waitlists."""


class AlreadyQueued(DomainError):
    pass


class FreeTimeExists(DomainError):
    """The queue is for doctors without free time: book instead."""


class OfferGone(DomainError):
    """The offer was already answered, expired or withdrawn."""


class EmailUndeliverable(DomainError):
    """The mail server refused or could not be reached."""


class StaleButton(DomainError):
    """A button from a message too old to act on, or from a finished conversation."""
