"""Bot API methods that create, change or delete messages, and answerCallbackQuery."""

from __future__ import annotations

import itertools
from typing import Any

from .api_common import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    Handler,
    bad_request,
    chat_for,
    int_param,
    render_text,
)
from .errors import (
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_DELETE_NOT_FOUND,
    MESSAGE_TO_EDIT_NOT_FOUND,
    QUERY_TOO_OLD,
    ApiError,
)
from .markup import inline_keyboard_of, validate_reply_markup
from .models import BotMessage, CallbackAnswer, JsonDict, SentDocument, UploadedFile
from .state import ChatState, TelegramState

_MAX_ANSWER_TEXT = 200


class MessageMethods:
    def __init__(self, state: TelegramState) -> None:
        self.state = state
        self._file_ids = itertools.count(1)

    def handlers(self) -> dict[str, Handler]:
        return {
            "sendMessage": self.send_message,
            "sendDocument": self.send_document,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
        }

    # ---- helpers -------------------------------------------------------------------------

    @staticmethod
    def _reply_to(chat: ChatState, params: JsonDict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id, allow_missing = reply.get("message_id"), reply.get(
                "allow_sending_without_reply", False
            )
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = params.get("allow_sending_without_reply", False)
        if message_id is None:
            return None
        message_id = int(message_id)
        existing = chat.bot_messages.get(message_id)
        if (existing is None or existing.deleted) and message_id not in chat.user_message_ids:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    @staticmethod
    def _editable(chat: ChatState, params: JsonDict) -> BotMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)  # no inline mode in this fake
        message_id = int_param(params, "message_id")
        message = chat.bot_messages.get(message_id)
        if message is None or message.deleted:
            if message_id in chat.user_message_ids:
                raise bad_request("message can't be edited")
            raise ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)
        return message

    def _store(self, chat: ChatState, message: BotMessage) -> JsonDict:
        chat.bot_messages[message.message_id] = message
        self.state.record_event(chat, "sent", message)
        return self.state.message_to_api(message)

    def _apply_edit(self, chat: ChatState, message: BotMessage) -> JsonDict:
        message.edit_date = self.state.now()
        message.history.append(message.text)
        self.state.record_event(chat, "edited", message)
        return self.state.message_to_api(message)

    # ---- sending -------------------------------------------------------------------------

    async def send_message(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=True)
        raw_text = str(params.get("text") or "")
        parsed = render_text(
            raw_text,
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
            allow_empty=False,
        )
        markup = validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        message = BotMessage(
            chat_id=chat.chat_id,
            message_id=chat.new_message_id(),
            date=self.state.now(),
            text=parsed.text,
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            entities=parsed.entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            history=[parsed.text],
        )
        return self._store(chat, message)

    def _document_file(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> tuple[str | None, str | None, bytes | None]:
        """(filename, mime type, bytes) of the ``document`` parameter."""
        ref = params.get("document")
        upload: UploadedFile | None = None
        if isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref.removeprefix("attach://"))
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        elif ref is None:
            upload = files.get("document")
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            return upload.filename, upload.content_type, upload.data
        if not isinstance(ref, str) or not ref:
            raise bad_request("there is no document in the request")
        return None, None, None  # an existing file_id or a URL: nothing uploaded

    async def send_document(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=True)
        filename, mime_type, data = self._document_file(params, files)
        raw_caption = str(params.get("caption") or "")
        parsed = render_text(
            raw_caption,
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            allow_empty=True,
        )
        number = next(self._file_ids)
        document = SentDocument(
            file_id=f"BQACAgIAAxkBAAI{number:08d}",
            file_unique_id=f"AgAD{number:08d}",
            filename=filename,
            mime_type=mime_type,
            data=data,
            caption=parsed.text,
        )
        message = BotMessage(
            chat_id=chat.chat_id,
            message_id=chat.new_message_id(),
            date=self.state.now(),
            text=parsed.text,
            raw_text=raw_caption,
            parse_mode=params.get("parse_mode"),
            entities=parsed.entities,
            reply_markup=validate_reply_markup(params.get("reply_markup")),
            document=document,
            reply_to_message_id=self._reply_to(chat, params),
            history=[parsed.text],
        )
        return self._store(chat, message)

    async def send_chat_action(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat_for(self.state, params, sending=True)
        if not params.get("action"):
            raise bad_request("action is empty")
        return True

    # ---- editing -------------------------------------------------------------------------

    async def edit_message_text(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=True)
        message = self._editable(chat, params)
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        raw_text = str(params.get("text") or "")
        parsed = render_text(
            raw_text,
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="MESSAGE_TOO_LONG",
            allow_empty=False,
        )
        # Without reply_markup Telegram removes the inline keyboard: a real behaviour the
        # bot must account for, so we model it.
        markup = validate_reply_markup(params.get("reply_markup"))
        if (
            parsed.text == message.text
            and parsed.entities == message.entities
            and inline_keyboard_of(markup) == message.inline_keyboard
        ):
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        message.text, message.raw_text, message.entities = parsed.text, raw_text, parsed.entities
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        return self._apply_edit(chat, message)

    async def edit_message_caption(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=True)
        message = self._editable(chat, params)
        if message.document is None:
            raise bad_request("there is no caption in the message to edit")
        raw_caption = str(params.get("caption") or "")
        parsed = render_text(
            raw_caption,
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            allow_empty=True,
        )
        markup = validate_reply_markup(params.get("reply_markup"))
        if (
            parsed.text == message.text
            and parsed.entities == message.entities
            and inline_keyboard_of(markup) == message.inline_keyboard
        ):
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        message.text, message.raw_text, message.entities = parsed.text, raw_caption, parsed.entities
        message.reply_markup = markup
        return self._apply_edit(chat, message)

    async def edit_message_reply_markup(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> Any:
        chat = chat_for(self.state, params, sending=True)
        message = self._editable(chat, params)
        markup = validate_reply_markup(params.get("reply_markup"))
        if inline_keyboard_of(markup) == message.inline_keyboard:
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        message.reply_markup = markup
        return self._apply_edit(chat, message)

    # ---- deleting ------------------------------------------------------------------------

    def _delete(self, chat: ChatState, message_id: int) -> bool:
        message = chat.bot_messages.get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            self.state.record_event(chat, "deleted", message)
            return True
        if message_id in chat.user_message_ids:
            chat.user_message_ids.discard(message_id)
            return True
        return False

    async def delete_message(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=False)
        if not self._delete(chat, int_param(params, "message_id")):
            raise ApiError(400, MESSAGE_TO_DELETE_NOT_FOUND)
        return True

    async def delete_messages(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        chat = chat_for(self.state, params, sending=False)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids is invalid")
        for message_id in ids:
            self._delete(chat, int(message_id))  # missing ones are skipped, as in Telegram
        return True

    # ---- callback queries ----------------------------------------------------------------

    async def answer_callback_query(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> Any:
        query = self.state.callback_queries.get(str(params.get("callback_query_id") or ""))
        if query is None or query.answer is not None:
            raise ApiError(400, QUERY_TOO_OLD)  # unknown, forged or already answered
        text = params.get("text")
        if isinstance(text, str) and len(text) > _MAX_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        cache_time = params.get("cache_time")
        answer = CallbackAnswer(
            query_id=query.query_id,
            text=None if text is None else str(text),
            show_alert=bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=None if cache_time is None else int(cache_time),
        )
        self.state.record_answer(query, answer)
        return True
