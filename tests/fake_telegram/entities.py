"""Telegram's HTML parse mode, re-implemented strictly enough to catch bot bugs.

Real Telegram rejects a message whose HTML uses an unsupported tag, leaves a tag open, or
closes tags in the wrong order, with ``400 Bad Request: can't parse entities: ...``.  The bot
interpolates user-supplied names into HTML, so an unescaped ``<`` must fail here exactly as it
would in production.  We also return the visible text and the entities (with UTF-16 offsets,
as Telegram does) so that ``Message.html_text`` in aiogram round-trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Tag → entity type.  Only these tags are accepted (Telegram's documented list).
_TAG_ENTITY: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}

# Telegram decodes only these named entities (plus numeric ones); any other "&" is literal.
_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_SPACE = " \t\r\n"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(error)`` is Telegram's description tail."""


@dataclass(slots=True)
class ParsedText:
    """What the recipient sees: plain text plus formatting entities."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int  # UTF-16 offset of the entity start in the output text
    entity_type: str
    extra: dict[str, Any]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    # Telegram reports positions in UTF-8 bytes; computed only on the error path.
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``index``; return (char, next index) or None if not an entity."""
    end = source.find(";", index + 1, index + 12)
    if end == -1:
        return None
    name = source[index + 1 : end]
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], end + 1
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16)), end + 1
        if name.startswith("#"):
            return chr(int(name[1:], 10)), end + 1
    except (ValueError, OverflowError):
        return None
    return None


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&" and (decoded := _decode_entity(value, i)) is not None:
            out.append(decoded[0])
            i = decoded[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _parse_attributes(source: str, i: int, tag_start: int) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs up to the closing ``>``; return (attrs, index after >)."""
    attrs: dict[str, str] = {}
    n = len(source)
    while True:
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n:
            msg = f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
            raise EntityParseError(msg)
        if source[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and source[i] not in _SPACE and source[i] not in "=>":
            i += 1
        name = source[name_start:i].lower()
        while i < n and source[i] in _SPACE:
            i += 1
        value = ""
        if i < n and source[i] == "=":
            i += 1
            while i < n and source[i] in _SPACE:
                i += 1
            if i < n and source[i] in "\"'":
                quote = source[i]
                close = source.find(quote, i + 1)
                if close == -1:
                    msg = f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
                    raise EntityParseError(msg)
                value = source[i + 1 : close]
                i = close + 1
            else:
                value_start = i
                while i < n and source[i] not in _SPACE and source[i] != ">":
                    i += 1
                value = source[value_start:i]
        attrs[name] = _unescape(value)


def _entity_extra(name: str, attrs: dict[str, str], source: str, start: int) -> dict[str, Any]:
    """Attributes that change the entity, and the attribute rules Telegram enforces."""
    if name == "span" and attrs.get("class") != "tg-spoiler":
        where = _byte_offset(source, start)
        msg = f'Tag "span" must have class "tg-spoiler" at byte offset {where}'
        raise EntityParseError(msg)
    if name == "a":
        return {"url": attrs.get("href", "")}
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    if name == "code" and attrs.get("class", "").startswith("language-"):
        return {"language": attrs["class"].removeprefix("language-")}
    return {}


def _close_entity(tag: _OpenTag, end: int, entities: list[dict[str, Any]]) -> None:
    length = end - tag.offset
    if length <= 0:
        return  # Telegram silently drops empty entities
    extra = dict(tag.extra)
    entity_type = extra.pop("type", tag.entity_type)
    if entity_type == "text_link" and not extra.get("url"):
        return  # <a> without href is plain text
    if entity_type == "code" and "language" in extra:
        entity_type = "pre"
    entities.append({"type": entity_type, "offset": tag.offset, "length": length, **extra})


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML; raise :class:`EntityParseError` where Telegram would."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "&" and (decoded := _decode_entity(source, i)) is not None:
            out.append(decoded[0])
            out_len += utf16_len(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.append(ch)
            out_len += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        tag_start = i
        i += 1
        if i < n and source[i] == "/":
            close = source.find(">", i)
            if close == -1:
                msg = f"Unclosed end tag at byte offset {_byte_offset(source, tag_start)}"
                raise EntityParseError(msg)
            name = source[i + 1 : close].strip().lower()
            if not stack:
                msg = f"Unexpected end tag at byte offset {_byte_offset(source, tag_start)}"
                raise EntityParseError(msg)
            if name != stack[-1].name:
                msg = (
                    f"Unmatched end tag at byte offset {_byte_offset(source, tag_start)}, "
                    f'expected "</{stack[-1].name}>", found "</{name}>"'
                )
                raise EntityParseError(msg)
            _close_entity(stack.pop(), out_len, entities)
            i = close + 1
            continue
        name_start = i
        while i < n and source[i] not in _SPACE and source[i] not in ">/":
            i += 1
        if i >= n:
            msg = f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
            raise EntityParseError(msg)
        name = source[name_start:i].lower()
        if name not in _TAG_ENTITY:
            msg = f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, tag_start)}'
            raise EntityParseError(msg)
        attrs, i = _parse_attributes(source, i, tag_start)
        extra = _entity_extra(name, attrs, source, tag_start)
        stack.append(_OpenTag(name, out_len, _TAG_ENTITY[name], extra))
    if stack:
        msg = f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        raise EntityParseError(msg)
    # Telegram lists entities by offset; nested ones close first, so sort for stability.
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)
