"""Decoding Bot API request parameters the way Telegram does.

aiogram sends every method as form data (urlencoded, or multipart when a file is attached):
strings go as-is, while numbers, booleans and nested objects (``reply_markup``, ``entities``,
``allowed_updates``...) go JSON-encoded.  Telegram also accepts a JSON body and a query
string, so we do too.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .models import JsonDict, UploadedFile

# Parameters that are strings even when they look like JSON ("123", "true").  Anything else
# is JSON-decoded when it parses, which covers numbers, booleans and nested objects.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "url",
        "action",
        "language_code",
        "description",
        "short_description",
        "name",
        "document",
        "photo",
        "video",
        "audio",
        "voice",
        "sticker",
        "thumbnail",
        "emoji",
        "title",
        "address",
        "question",
        "explanation",
        "game_short_name",
        "secret_token",
        "ip_address",
        "certificate",
    }
)


def decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    if key in {"chat_id", "from_chat_id"}:
        # "@channelusername" is a valid chat_id too: keep non-numeric ones as strings.
        return int(value) if value.lstrip("-").isdigit() else value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
    """All parameters of a Bot API request, decoded, and the uploaded files by field name."""
    params: JsonDict = {key: decode_value(key, value) for key, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)  # already typed; no second decoding
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(
                field_name=key,
                filename=value.filename,
                content_type=value.content_type,
                data=value.file.read(),
            )
        elif isinstance(value, str):
            params[key] = decode_value(key, value)
        else:  # bytes of a part without filename
            params[key] = decode_value(key, bytes(value).decode("utf-8"))
    return params, files
