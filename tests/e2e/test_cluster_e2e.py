"""Two real bot processes on PostgreSQL and Redis behind the fake Telegram's webhook (issue 16)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from sqlalchemy import func, select

from core.access import AccessService
from core.booking import BookingService
from core.clock import SystemClock
from core.enums import AppointmentStatus, WaitlistStatus
from core.identity import Staff
from storage.db import Database
from storage.models import Appointment, WaitlistEntry
from tests import factories
from tests.e2e import world
from tests.e2e.cluster import (
    POSTGRES_URL,
    REDIS_URL,
    SECRET,
    SKIP_REASON,
    Cluster,
    cluster,
    drop_template,
    make_template,
    queue_scene,
    until,
)
from tests.e2e.test_booking_e2e import labels, to_summary
from tests.fake_telegram.models import BotMessage
from tests.fake_telegram.user import ScriptedUser

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL), reason=SKIP_REASON)]

BOOKED = "Вы записаны к врачу"
OFFER = "Предлагаем время для записи на приём"


@pytest.fixture(scope="module")
def pg_template() -> Iterator[str]:
    name = make_template()
    yield name
    drop_template(name)


@pytest.fixture
async def two(pg_template: str) -> AsyncIterator[Cluster]:
    async with cluster(pg_template) as group:
        yield group


async def portal_bookings(db: Database) -> list[tuple[int, int]]:
    """(slot id, patient id) of every active appointment made in the bot."""
    async with db.read() as uow:
        rows = await uow.session.execute(select(Appointment.slot_id, Appointment.patient_id).where(
            Appointment.made_by_account_id.is_not(None), Appointment.status == AppointmentStatus.ACTIVE))
        return [(slot, patient) for slot, patient in rows.all()]


def said(user: ScriptedUser, text: str) -> int:
    return sum(text in message.text for message in user.all_messages)


def targets_of(group: Cluster, chat_id: int) -> set[str]:
    return {attempt.target for attempt in group.api.webhook_attempts if attempt.chat_id == chat_id and attempt.ok}


async def test_booking_race_across_instances(two: Cluster) -> None:
    """Six patients confirm the same time at once, their presses spread over both instances: one booking."""
    users = [(await world.logged_in(two.db, two.instances[0], 5101 + n, f"Пациент {n}"))[0] for n in range(6)]
    await two.start()
    chosen = {await to_summary(user, two.instances[0]) for user in users}
    assert len(chosen) == 1
    before = [len(relay.forwarded) for relay in two.relays]
    answers = await asyncio.gather(*(user.press("Подтвердить", timeout=15) for user in users))
    # A press is answered before its webhook call returns: the relays count it once the fake is idle.
    await two.api.wait_for_webhook_idle()
    assert all(len(relay.forwarded) > mark for relay, mark in zip(two.relays, before, strict=True))
    assert sorted(a.show_alert for a in answers) == [False] + [True] * 5
    winner = users[[a.show_alert for a in answers].index(False)]
    await winner.expect(BOOKED, timeout=10)
    for user, answer in zip(users, answers, strict=True):
        if answer.show_alert:
            assert "уже занято" in (answer.text or "")
            assert said(user, BOOKED) == 0
    assert len(await portal_bookings(two.db)) == 1


async def test_one_chats_updates_over_both_instances_in_order(two: Cluster) -> None:
    """Answers typed one right after another reach both instances and are handled in order: each
    step of the form sees the state the previous one left (in Redis)."""
    anna, _ = await world.logged_in(two.db, two.instances[0], 5201, "Анна")
    await two.start()
    await anna.send("Моя картотека")
    await anna.expect("Моя картотека")
    await anna.press("Добавить человека")
    await anna.expect("Фамилия, имя и отчество")
    mark = len(anna.messages)
    await anna.send("Иванов Михаил Петрович")
    await anna.send("05.03.2015")
    await anna.expect("Пол:", timeout=10)
    await anna.press("Мужской")
    await anna.expect("полиса ОМС")
    await anna.send("7712 3456 7890 1299")
    await anna.send("112-233-445 95")
    await anna.expect("Контактный телефон", timeout=10)
    await anna.press("Пропустить")
    review = await anna.expect("Проверьте данные")
    asked = [message.text for message in anna.messages[mark:]]
    steps = ("Проверьте данные", "Дата рождения", "Пол:", "полиса ОМС", "СНИЛС", "Контактный телефон")
    assert [next(step for step in steps if step in text) for text in asked] == [
        "Дата рождения", "Пол:", "полиса ОМС", "СНИЛС", "Контактный телефон", "Проверьте данные"], asked
    assert "Иванов Михаил Петрович" in review.text and "05.03.2015" in review.text
    assert "112-233-445 95" in review.text
    assert targets_of(two, anna.chat_id) == {relay.url for relay in two.relays}


async def test_a_form_continues_on_the_other_instance(two: Cluster) -> None:
    """Begun on one instance, finished on the other: the half-filled form lives in Redis."""
    anna, _ = await world.logged_in(two.db, two.instances[0], 5301, "Анна")
    await two.start()
    first, second = two.relays
    two.api.webhook_targets = [first.url]
    await anna.send("Моя картотека")
    await anna.expect("Моя картотека")
    await anna.press("Добавить человека")
    await anna.expect("Фамилия, имя и отчество")
    await anna.send("Иванова Ольга Сергеевна")
    await anna.expect("Дата рождения")
    two.api.webhook_targets = [second.url]
    await anna.send("01.02.2010")
    await anna.expect("Пол:")
    await anna.press("Женский")
    await anna.expect("полиса ОМС")
    await anna.send("7712 3456 7890 1288")
    await anna.expect("СНИЛС")
    await anna.press("Пропустить")
    await anna.expect("Контактный телефон")
    await anna.press("Пропустить")
    review = await anna.expect("Проверьте данные")
    assert "Иванова Ольга Сергеевна" in review.text and "01.02.2010" in review.text
    assert targets_of(two, anna.chat_id) == {first.url, second.url}


@pytest.mark.parametrize("fault", ["answer-lost", "answer-too-slow"])
async def test_a_redelivered_update_acts_once(pg_template: str, fault: str) -> None:
    """«Подтвердить» is handled, but Telegram never hears so (the proxy loses the answer, or it comes
    after the timeout) and delivers the update again to the other instance: one booking, one answer."""
    async with cluster(pg_template, webhook_timeout=2.0) as group:
        anna, _ = await world.logged_in(group.db, group.instances[0], 5401, "Анна")
        await group.start()
        await to_summary(anna, group.instances[0])
        if fault == "answer-lost":
            group.faults.lose = 1
        else:
            group.faults.slow, group.faults.slow_seconds = 1, 3.0
        answer = await anna.press("Подтвердить", timeout=10)
        assert not answer.show_alert
        await anna.expect(BOOKED, timeout=10)
        await group.api.wait_for_webhook_idle(timeout=15)
        (update_id, _), = group.faults.spoiled
        handed = [(relay.url, status) for relay in group.relays for uid, status in relay.forwarded if uid == update_id]
        assert len(handed) == 2 and {url for url, _ in handed} == {relay.url for relay in group.relays}, handed
        await anna.expect_no_message(within=2.0)
        assert said(anna, BOOKED) == 1
        answered = [call.params.get("callback_query_id") for call in group.api.calls_to("answerCallbackQuery")]
        assert len(answered) == len(set(answered))  # no query answered twice (Telegram would refuse it)
        assert len(await portal_bookings(group.db)) == 1


async def test_a_wrong_or_missing_secret_is_refused(two: Cluster) -> None:
    """A POST without Telegram's secret gets 401 and changes nothing; the same update with it books."""
    anna, _ = await world.logged_in(two.db, two.instances[0], 5501, "Анна")
    await two.start()
    await to_summary(anna, two.instances[0])
    summary = anna.last_message
    assert summary is not None
    confirm = next(button for row in summary.inline_keyboard for button in row if button["text"] == "Подтвердить")
    query_id = two.api.state.next_query_id()
    update = {"update_id": 900_001, "callback_query": {
        "id": query_id, "from": anna.user, "chat_instance": f"-{anna.chat_id}77",
        "data": confirm["callback_data"], "message": two.api.state.message_to_api(summary)}}
    messages = len(anna.all_messages)
    for instance in two.instances:
        assert await instance.post_update(update, secret="wrong-secret") == 401
        assert await instance.post_update(update, secret=None) == 401
    await asyncio.sleep(1.0)
    assert len(anna.all_messages) == messages
    assert await portal_bookings(two.db) == []
    assert query_id not in {call.params.get("callback_query_id") for call in two.api.calls_to("answerCallbackQuery")}
    # The control: the very same update with the right secret is a booking.
    assert await two.instances[1].post_update(update, secret=SECRET) == 200
    await anna.expect(BOOKED, timeout=10)
    assert len(await portal_bookings(two.db)) == 1


# ---- kill -9 ------------------------------------------------------------------------------


def times_of(buttons: list[list[str]]) -> list[str]:
    return [label for label in labels(buttons) if re.fullmatch(r"\d\d:\d\d", label)]


async def book_a_time(user: ScriptedUser, group: Cluster, choice: int, patience: float = 30.0) -> None:
    """The booking steps, taking the ``choice``-th free time, and the first one left when it is taken meanwhile."""
    await to_summary_patiently(user, group, choice, patience)
    for _ in range(20):
        answer = await user.press("Подтвердить", timeout=patience)
        if not answer.show_alert:
            await user.expect(BOOKED, timeout=patience)
            return
        fresh = await times_screen(user, group, await user.expect("Выберите", timeout=patience), patience)
        await user.press(times_of(fresh.buttons)[0], timeout=patience)
        await user.expect("Проверьте запись", timeout=patience)
    raise AssertionError(f"{user!r} never got a time")


async def to_summary_patiently(user: ScriptedUser, group: Cluster, choice: int, patience: float) -> None:
    await user.send("Запись к врачу")
    await user.expect("Выберите специальность", timeout=patience)
    await user.press("Терапевт", timeout=patience)
    await user.expect("Выберите врача", timeout=patience)
    await user.press("Иванова Мария", timeout=patience)
    times = await times_screen(user, group, await user.expect("Выберите дату", timeout=patience), patience)
    free = times_of(times.buttons)
    await user.press(free[choice % len(free)], timeout=patience)
    await user.expect("Проверьте запись", timeout=patience)


async def times_screen(user: ScriptedUser, group: Cluster, screen: BotMessage, patience: float) -> BotMessage:
    """From a screen of times or of dates to a screen of times: a day others filled meanwhile
    («свободного времени больше нет. Выберите другую дату») sends the patient to another date."""
    for _ in range(10):
        if "Выберите время" in screen.text:
            return screen
        await user.press(world.cancellable_day(labels(screen.buttons), group.instances[0].now()), timeout=patience)
        screen = await user.expect("Выберите", timeout=patience)
    raise AssertionError(f"{user!r} found no day with free times")


async def test_kill_9_in_the_middle_of_a_rush(two: Cluster) -> None:
    """Twenty patients rush for the same doctor; one instance dies mid-way: every patient ends booked,
    told once, and no time is booked twice."""
    patients = 20
    users = [(await world.logged_in(two.db, two.instances[0], 5600 + n, f"Пациент {n}"))[0] for n in range(patients)]
    await two.start()
    # Two patients aim at each time: half of them lose a race and take another.
    # A chat in flight on the dead instance waits for its claim's lease and its Redis lock to lapse.
    rush = asyncio.gather(*(book_a_time(user, two, n // 2, patience=90) for n, user in enumerate(users)))
    victim = two.instances[0]
    await until(confirmed_at_least(two, patients * 2), 60, "the rush got under way")
    await victim.kill()
    try:
        await asyncio.wait_for(rush, timeout=300)
    except Exception as exc:
        rush.cancel()
        raise AssertionError(f"{exc}\n{two.logs()}") from None
    for user in users:
        assert said(user, BOOKED) == 1, user.describe_since_last_action()
    bookings = await portal_bookings(two.db)
    assert len(bookings) == patients
    assert len({slot for slot, _ in bookings}) == patients  # no time twice
    assert len({patient for _, patient in bookings}) == patients
    assert any(attempt.target == two.relays[0].url and not attempt.ok for attempt in two.api.webhook_attempts)


def confirmed_at_least(group: Cluster, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return sum(attempt.ok for attempt in group.api.webhook_attempts) >= count
    return check


async def test_kill_9_of_the_leader_in_the_middle_of_an_offer_fan_out(two: Cluster) -> None:
    """Sixty times freed at once for sixty queued patients; the instance sending the offers dies
    after a few: every patient is offered once, nobody twice, within Telegram's limits, and the
    survivor takes over the sending."""
    count = 60
    appointments, booker_id = await queue_scene(two.db, count)
    users = [two.api.user(60_000 + i, f"Пациент {i}") for i in range(count)]
    await two.start()
    leader = await two.wait_for_leader(two.instances)
    survivor = next(instance for instance in two.instances if instance is not leader)
    assert not await survivor.is_leader()

    clinic_side = BookingService(two.db, SystemClock())
    identity = await AccessService(two.db, SystemClock(), Staff(), factories.CONSENT).identify(booker_id, booker_id)
    for appointment_id in appointments:  # the clinic cancels the whole day
        await clinic_side.cancel(identity, appointment_id)

    def offered(wanted: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return sum(1 for user in users if said(user, OFFER)) >= wanted
        return check

    await until(offered(5), 30, "the first offers")
    killed_at = time.monotonic()
    await leader.kill()
    await two.wait_for_leader([survivor], timeout=15)
    took_over = time.monotonic() - killed_at
    await until(offered(count), 60, "every queued patient offered")
    await asyncio.sleep(2.0)  # time for a wrong second copy to arrive
    copies = Counter(said(user, OFFER) for user in users)
    assert copies == Counter({1: count}), copies
    rates = two.api.send_rate(window=1.0)
    assert rates.overall <= 30 and rates.max_per_chat <= 1, rates
    assert took_over < 10, took_over
    async with two.db.read() as uow:
        waiting = await uow.session.scalar(select(func.count()).select_from(WaitlistEntry).where(
            WaitlistEntry.status == WaitlistStatus.WAITING))
    assert waiting == 0

