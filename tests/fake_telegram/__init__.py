"""A fake Telegram Bot API server and scripted users for end-to-end tests.

Updates go by getUpdates, or by webhook after the bot's setWebhook (``server.webhook_targets``
spreads them over several bot instances; ``server.webhook_attempts`` records each POST).

    async with FakeTelegramServer() as server:
        bot = Bot(token=server.token, session=AiohttpSession(
            api=TelegramAPIServer.from_base(server.base_url)))
        anna = server.user(1001, "Анна")
        await anna.send("/start")
        await anna.expect("Войти")
"""

from .errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    QUERY_TOO_OLD,
)
from .models import ApiCall, BotMessage, CallbackAnswer, ChatEvent, SentDocument, UploadedFile
from .rates import RateStats, max_in_window
from .server import DEFAULT_TOKEN, FakeTelegramServer
from .user import ScriptedUser
from .webhook import SECRET_HEADER, DeliveryAttempt

__all__ = [
    "BLOCKED",
    "CHAT_NOT_FOUND",
    "DEFAULT_TOKEN",
    "MESSAGE_NOT_MODIFIED",
    "MESSAGE_TO_EDIT_NOT_FOUND",
    "QUERY_TOO_OLD",
    "SECRET_HEADER",
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "ChatEvent",
    "DeliveryAttempt",
    "FakeTelegramServer",
    "RateStats",
    "ScriptedUser",
    "SentDocument",
    "UploadedFile",
    "max_in_window",
]
