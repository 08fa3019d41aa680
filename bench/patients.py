"""Simulated patients of the rush: each walks the six booking steps as fast as the bot answers.

A step's latency runs from the moment the patient's update is available to the bot (queued for
getUpdates) to the moment the Bot API call the patient waits for reaches the fake API: the next
screen, or for «Подтвердить» the booking's outcome (the «Вы записаны» screen, or the alert that
the time was taken).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tests.fake_telegram.models import BotMessage, ChatEvent
from tests.fake_telegram.state import CallbackQueryState
from tests.fake_telegram.user import ScriptedUser

STEPS = ("«Запись к врачу»", "specialty", "doctor", "date", "time", "«Подтвердить»")
BOOK = "Запись к врачу"
# The screen each step waits for, by a phrase of its text.
SCREENS = ("Выберите специальность", "Выберите врача", "Выберите дату", "Выберите время", "Проверьте запись",
           "Вы записаны")
CONFIRM = "Подтвердить"
TIME = 4  # the press that chooses the time
TAKEN = "уже занято"


class StepFailed(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    """The buttons a patient means to press, by what is written on them; None: the first button.

    The bare bot's screens need no plan. On the bot's, a date is found by its day of the month
    (unique within the two weeks shown) and a time by «09:30» in the clinic's time.
    """

    specialty: str | None = None
    doctor: str | None = None
    day: int | None = None
    time: str | None = None
    slot_id: int | None = None  # the time aimed at, for the database check afterwards

    def wants(self, press: int, label: str) -> bool:
        wanted = (self.specialty, self.doctor, self.day, self.time, CONFIRM)[press - 1]
        if wanted is None:
            return True
        if isinstance(wanted, int):
            return str(wanted) in label.split()
        return wanted in label


@dataclass
class Walk:
    latencies: list[float] = field(default_factory=list)  # seconds, one for each step answered
    outcome: str = "failed"  # booked | refused (told the time was taken) | gone (not shown any more) | failed
    error: str = ""
    confirm_pressed: float = 0.0
    finished: float = 0.0  # when the last answer arrived
    spinning: int = 0  # buttons the bot never answered (answerCallbackQuery)
    queries: list[CallbackQueryState] = field(default_factory=list)


def _button(message: BotMessage, plan: Plan, press: int) -> str | None:
    for button in message.all_buttons():
        if "callback_data" in button and plan.wants(press, button["text"]):
            return str(button["callback_data"])
    return None


async def _screen(user: ScriptedUser, phrase: str, timeout: float) -> ChatEvent:
    found: list[ChatEvent] = []

    def shown() -> bool:
        found.extend(e for e in user.events_since_last_action() if e.kind != "deleted" and phrase in e.text)
        return bool(found)

    if not await user.changed.wait_until(shown, timeout):
        raise StepFailed(f"no «{phrase}» within {timeout} s:\n{user.describe_since_last_action()}")
    return found[0]


async def _outcome(user: ScriptedUser, query: CallbackQueryState, timeout: float) -> tuple[str, float]:
    """«Вы записаны», or the alert that the time is taken; and when it reached the fake API."""
    result: list[tuple[str, float]] = []

    def decided() -> bool:
        if query.answer is not None and query.answer.show_alert and query.answered_at is not None:
            kind = "refused" if TAKEN in (query.answer.text or "") else f"alert: {query.answer.text}"
            result.append((kind, query.answered_at))
        result.extend(("booked", e.at) for e in user.events_since_last_action() if SCREENS[-1] in e.text)
        return bool(result)

    if not await user.changed.wait_until(decided, timeout):
        raise StepFailed(f"no outcome of «{CONFIRM}» within {timeout} s:\n{user.describe_since_last_action()}")
    return result[0]


async def walk(user: ScriptedUser, plan: Plan, arrival: float, timeout: float = 60.0) -> Walk:
    """Arrive at ``arrival`` (time.monotonic()) and book: «Запись к врачу», then five presses."""
    await asyncio.sleep(max(arrival - time.monotonic(), 0.0))
    done = Walk()
    try:
        available = time.monotonic()
        await user.send(BOOK)  # queued for getUpdates before this returns
        event = await _screen(user, SCREENS[0], timeout)
        done.latencies.append(event.at - available)
        done.finished = event.at
        for press in range(1, len(STEPS)):
            data = _button(event.message, plan, press)
            if data is None and press == TIME:
                done.outcome = "gone"  # the other of a pair booked it before this one saw the times
                break
            if data is None:
                raise StepFailed(f"step {press + 1}: no button for {plan} on {event.message.describe()}")
            available = time.monotonic()
            query = user.click(data, event.message)
            done.queries.append(query)
            if press < len(STEPS) - 1:
                event = await _screen(user, SCREENS[press], timeout)
                done.latencies.append(event.at - available)
                done.finished = event.at
            else:
                done.confirm_pressed = available
                done.outcome, answered = await _outcome(user, query, timeout)
                done.latencies.append(answered - available)
                done.finished = answered
    except StepFailed as exc:
        done.outcome, done.error = "failed", str(exc)
    # A screen may come before the button's answer: wait for the answers too, or count them spinning.
    await user.changed.wait_until(lambda: all(q.answer is not None for q in done.queries), 10.0)
    done.spinning = sum(q.answer is None for q in done.queries)
    return done
