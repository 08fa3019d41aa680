"""End-to-end: log-in, card file and moderation on the real bot process (R1–R4, R24, 152-FZ)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.keyboards.callbacks import CardAction, CardCb, ModAction, ModCb
from core.enums import AuthMethod, ModerationStatus
from storage.db import Database
from storage.models import Account, Patient
from tests.e2e import world
from tests.e2e.harness import BotProcess
from tests.e2e.oidc import FakeOidcProvider, open_in_browser, s256
from tests.fake_telegram.server import FakeTelegramServer
from tests.fake_telegram.user import ScriptedUser
from tests.fakes.smtp import SmtpCapture

pytestmark = pytest.mark.e2e

ANNA_EMAIL = "anna.ivanova@example.ru"


async def consent_and_email_login(user: ScriptedUser, bot: BotProcess, email: str) -> None:
    await user.send("/start")
    await user.expect("Согласие на обработку персональных данных")
    await user.press("Даю согласие")
    await user.expect("Как вы хотите войти")
    await user.press("Войти по электронной почте")
    await user.expect("адрес электронной почты")
    await user.send(email)
    await user.expect("Код отправлен на an***@example.ru" if email == ANNA_EMAIL else "Код отправлен")
    await user.send(bot.login_code())


async def fill_person(user: ScriptedUser, full_name: str, *, phone: str | None = "+7 912 345-67-89",
                      snils: str | None = None) -> None:
    await user.expect("Фамилия, имя и отчество")
    await user.send(full_name)
    await user.expect("Дата рождения")
    await user.send("05.03.1984")
    await user.expect("Пол:")
    await user.press("Женский")
    await user.expect("полиса ОМС")
    await user.send("7712 3456 7890 1234")
    await user.expect("СНИЛС")
    if snils:
        await user.send(snils)
    else:
        await user.press("Пропустить")
    await user.expect("Контактный телефон")
    if phone:
        await user.send(phone)
    else:
        await user.press("Пропустить")
    await user.expect("Проверьте данные")
    await user.press("Отправить на проверку")
    await user.expect("отправлены на проверку")


async def test_email_login_owner_data_moderator_confirms(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                         bot_db: Database) -> None:
    """R1–R4, R24: e-mail code → owner's data → the moderator confirms → the patient is told."""
    await bot_process.start()
    anna = fake_api.user(1001, "Анна")
    moderator = fake_api.user(900, "Модератор")
    other_moderator = fake_api.user(902, "Модератор 2")
    await consent_and_email_login(anna, bot_process, ANNA_EMAIL)
    await fill_person(anna, "иванова анна петровна")

    # R2: while under review, booking is refused with the reason.
    await anna.send("Запись к врачу")
    await anna.expect("на проверке у модератора")

    request = await moderator.expect("Новые данные на проверку")
    assert "Иванова Анна Петровна" in request.text
    await other_moderator.expect("Новые данные на проверку")
    await moderator.press("Подтвердить")
    await moderator.expect("Подтверждено вами")
    await anna.expect("Модератор подтвердил данные")
    await other_moderator.expect("уже рассмотрены другим модератором: подтверждены")
    # The first decision wins: the second moderator's button now says it was handled.
    answer = await other_moderator.press("Отклонить")
    assert answer.show_alert and "уже рассмотрел" in (answer.text or "")

    async with bot_db.read() as uow:
        account = await uow.session.scalar(select(Account).where(Account.email == ANNA_EMAIL))
        assert account is not None and account.auth_method == AuthMethod.EMAIL
        assert account.consent_version == "test-1" and account.consent_at is not None
        owner = await uow.patients.owner(account.id)
        assert owner is not None and owner.status == ModerationStatus.CONFIRMED

    # Nothing that identifies the person reaches the application log.
    log = bot_process.log_text()
    for secret in (ANNA_EMAIL, "Иванова", "7712345678901234", "+79123456789"):
        assert secret not in log


async def test_esia_login_is_confirmed_at_once_and_state_is_one_time(fake_api: FakeTelegramServer,
                                                                      bot_process: BotProcess) -> None:
    """R1, R3: ESIA log-in through the OpenID Connect gateway; ESIA vouches, no moderation; a replayed
    or forged ``state`` logs nobody in."""
    claims = {"sub": "esia-42", "family_name": "Петров", "given_name": "Олег", "middle_name": "Ильич",
              "birthdate": "1979-04-12", "gender": "male", "snils": "112-233-445 95",
              "oms_policy": "5012345678901234"}
    async with FakeOidcProvider(claims, now=bot_process.now) as oidc:  # the bot's clock, shifted or not
        await bot_process.start(oidc.env())
        oleg = fake_api.user(1002, "Олег")
        await oleg.send("/start")
        await oleg.expect("Согласие на обработку")
        await oleg.press("Даю согласие")
        await oleg.expect("Как вы хотите войти")
        await oleg.press("Войти через Госуслуги")
        await oleg.expect("Открыть Госуслуги")
        url = oleg.url_button("Открыть Госуслуги")
        status, final_url, body = await open_in_browser(url)
        assert status == 200 and "Вход выполнен" in body
        await oleg.expect("Вы вошли через Госуслуги")
        await oleg.expect("Из Госуслуг: ФИО, дата рождения, пол, СНИЛС, полис ОМС")
        await oleg.send("Запись к врачу")
        await oleg.expect("Выберите специальность")  # confirmed at once: booking is open

        replay_status, _, replay_body = await open_in_browser(final_url)
        assert replay_status == 400 and "уже использована" in replay_body
        forged = final_url.split("state=")[0] + "state=forged&code=whatever"
        forged_status, _, _ = await open_in_browser(forged.replace("?&", "?"))
        assert forged_status == 400
        assert oidc.token_requests == 1
        # PKCE: the token request carried the verifier whose S256 challenge the log-in link had.
        assert [s256(v) for v in oidc.verifiers] == oidc.challenges
        # The one-time code and state of each callback stay out of the log (the access log too).
        log = bot_process.log_text()
        assert "/esia/callback" in log and "code=" not in log and "state=" not in log


async def test_esia_id_token_with_another_nonce_logs_nobody_in(fake_api: FakeTelegramServer,
                                                               bot_process: BotProcess, bot_db: Database) -> None:
    """R1: an id_token that fails a check (here: the nonce of another log-in) is refused; the patient
    reads why on the page, nobody is logged in, and the log names the check only."""
    claims = {"sub": "esia-43", "family_name": "Петров", "given_name": "Олег", "birthdate": "1979-04-12",
              "gender": "male"}
    async with FakeOidcProvider(claims, now=bot_process.now) as oidc:  # the bot's clock, shifted or not
        oidc.id_token_overrides = {"nonce": "another-log-in"}
        await bot_process.start(oidc.env())
        oleg = fake_api.user(1006, "Олег")
        await oleg.send("/start")
        await oleg.expect("Согласие на обработку")
        await oleg.press("Даю согласие")
        await oleg.expect("Как вы хотите войти")
        await oleg.press("Войти через Госуслуги")
        await oleg.expect("Открыть Госуслуги")
        status, _, body = await open_in_browser(oleg.url_button("Открыть Госуслуги"))
        assert status == 400 and "войдите по электронной почте" in body
        async with bot_db.read() as uow:
            assert await uow.session.scalar(select(Account)) is None
        log = bot_process.log_text()
        assert "check failed: nonce" in log and "Петров" not in log and "esia-43" not in log


async def test_family_member_rejected_fixed_and_confirmed(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                          bot_db: Database) -> None:
    """R2, R4, R24: a family member is rejected with a reason, fixed by the owner and confirmed."""
    await bot_process.start()
    anna = fake_api.user(1003, "Анна")
    moderator = fake_api.user(900, "Модератор")
    await consent_and_email_login(anna, bot_process, ANNA_EMAIL)
    await fill_person(anna, "Иванова Анна Петровна")
    await moderator.expect("Новые данные")
    await moderator.press("Подтвердить")
    await anna.expect("Модератор подтвердил")

    await anna.send("Моя картотека")
    await anna.expect("Моя картотека")
    await anna.press("Добавить человека")
    await fill_person(anna, "Иванов Миша", phone=None, snils="112-233-445 95")
    await moderator.expect("член семьи")
    await moderator.press("Отклонить")
    await moderator.expect("причину отклонения")
    await moderator.send("Фамилия в полисе другая: проверьте")
    await moderator.expect("Отклонено вами")
    await anna.expect("Причина: Фамилия в полисе другая")

    await anna.send("Моя картотека")
    await anna.expect("данные отклонены модератором")
    await anna.press("Иванов Миша")
    await anna.expect("Причина отклонения: Фамилия в полисе другая")
    await anna.press("Исправить и отправить снова")
    await fill_person(anna, "Иванов-Петров Михаил", phone=None)
    request = await moderator.expect("Повторная проверка данных")
    assert "Иванов-Петров Михаил" in request.text
    await moderator.press_in(request, "Подтвердить")
    await anna.expect("Модератор подтвердил данные: Иванов-Петров Михаил")

    async with bot_db.read() as uow:
        rows = list(await uow.session.scalars(select(Patient).order_by(Patient.id)))
    assert [(p.last_name, p.status) for p in rows] == [
        ("Иванова", ModerationStatus.CONFIRMED), ("Иванов-Петров", ModerationStatus.CONFIRMED)]


async def test_bad_input_and_forged_buttons_change_nothing(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                          bot_db: Database) -> None:
    """Free text where a button is expected, malformed data, a wrong code many times, a forged
    moderator callback from a patient: each is answered and nothing is stored."""
    await bot_process.start()
    mallory = fake_api.user(1004, "Мэллори")
    await mallory.send("/start")
    await mallory.expect("Согласие на обработку")
    await mallory.send("просто текст")
    await mallory.expect("Согласие на обработку")  # still asked: nothing was stored without consent
    await mallory.press("Даю согласие")
    await mallory.expect("Как вы хотите войти")
    await mallory.press("Войти по электронной почте")
    await mallory.expect("адрес электронной почты")
    await mallory.send("не-адрес")
    await mallory.expect("не похоже на адрес")
    await mallory.send("mallory@example.ru")
    await mallory.expect("Код отправлен")
    for left in (4, 3, 2, 1):
        await mallory.send("000000")
        await mallory.expect(f"Осталось попыток: {left}")
    await mallory.send("000000")
    await mallory.expect("Слишком много неверных попыток")
    await mallory.send(bot_process.login_code())
    await mallory.expect("Слишком много неверных попыток")

    # A forged «Подтвердить» of a moderator, pressed by a patient.
    answer = await mallory.press_raw(ModCb(action=ModAction.CONFIRM, patient_id=1).pack())
    assert answer.show_alert and "недоступно" in (answer.text or "")
    answer = await mallory.press_raw(CardCb(action=CardAction.OPEN, patient_id=1).pack())
    assert answer.show_alert
    async with bot_db.read() as uow:
        assert await uow.session.scalar(select(Account)) is None
        assert await uow.session.scalar(select(Patient)) is None


async def test_code_arrives_by_smtp_and_a_refusing_server_is_explained(fake_api: FakeTelegramServer,
                                                                       bot_process: BotProcess) -> None:
    """R1: with SMTP delivery the code comes by e-mail; a mail server that refuses is told in Russian,
    and the next try goes through."""
    async with SmtpCapture() as smtp:
        await bot_process.start({"EMAIL_DELIVERY": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
                                 "SMTP_SECURITY": "none", "SMTP_FROM": "bot@medportal.test"})
        vera = fake_api.user(1005, "Вера")
        await vera.send("/start")
        await vera.expect("Согласие на обработку")
        await vera.press("Даю согласие")
        await vera.expect("Как вы хотите войти")
        await vera.press("Войти по электронной почте")
        await vera.expect("адрес электронной почты")
        smtp.fail_next()
        await vera.send("vera@example.ru")
        await vera.expect("Не удалось отправить письмо")
        await vera.send("vera@example.ru")
        await vera.expect("Новый код можно запросить через")  # the failed one still counts: no mail bombing
        assert "login code" not in bot_process.log_text()  # SMTP delivery never writes codes to the log


async def test_a_half_filled_form_survives_a_restart(fake_api: FakeTelegramServer, bot_process: BotProcess,
                                                     bot_db: Database) -> None:
    """R4: the bot is restarted (a deploy) while a family member's form is half filled; the owner goes on
    where they were, and what they typed before the restart is kept."""
    anna, _ = await world.logged_in(bot_db, bot_process, 1010, "Анна")
    await bot_process.start()
    await anna.send("Моя картотека")
    await anna.expect("Моя картотека")
    await anna.press("Добавить человека")
    await anna.expect("Фамилия, имя и отчество")
    await anna.send("Иванов Михаил Петрович")
    await anna.expect("Дата рождения")
    await bot_process.restart()
    await anna.send("05.03.2015")
    await anna.expect("Пол:")
    await anna.press("Мужской")
    await anna.expect("полиса ОМС")
    await anna.send("7712 3456 7890 1299")
    await anna.expect("СНИЛС")
    await anna.press("Пропустить")
    await anna.expect("Контактный телефон")
    await anna.press("Пропустить")
    review = await anna.expect("Проверьте данные")
    assert "Иванов Михаил Петрович" in review.text and "05.03.2015" in review.text
