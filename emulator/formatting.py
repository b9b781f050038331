"""Message formatting: parse_mode text -> (plain text, entities), and entities -> HTML for viewers.

Telegram rejects malformed markup with "can't parse entities", which is a frequent production bug
(an unescaped customer name inside HTML); parsing strictly here lets end-to-end tests catch it.
Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_CHARS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?""")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def format_text(text: str, parse_mode: str | None, entities: list[Entity] | None) -> tuple[str, list[Entity]]:
    """Apply `parse_mode`; explicit `entities` win, as in Telegram, which then ignores parse_mode."""
    if entities:
        return text, entities
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    if mode:
        raise bad_request("unsupported parse_mode")
    return text, []


@dataclass
class _Builder:
    """Accumulates plain text and entities while tracking the UTF-16 offset."""

    source: str
    parts: list[str] = field(default_factory=list)
    offset: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def close(self, entity: Entity, start: int) -> None:
        if self.offset > start:
            self.entities.append({**entity, "offset": start, "length": self.offset - start})

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def result(self) -> tuple[str, list[Entity]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ordered


@dataclass
class _OpenTag:
    name: str
    entity: Entity | None
    start: int
    language: str | None = None


def parse_html(source: str) -> tuple[str, list[Entity]]:
    out = _Builder(source)
    stack: list[_OpenTag] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "<":
            end = source.find(">", index)
            if end == -1:
                raise parse_error(f"Unclosed start tag at byte offset {out.byte_offset(index)}")
            inner = source[index + 1 : end]
            if inner.startswith("/"):
                _close_html_tag(out, stack, inner[1:].strip().lower(), index)
            else:
                stack.append(_open_html_tag(out, inner, index))
            index = end + 1
        elif char == "&":
            index = _html_char_reference(out, source, index)
        else:
            out.add(char)
            index += 1
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.result()


def _open_html_tag(out: _Builder, inner: str, index: int) -> _OpenTag:
    match = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", inner)
    name = match.group(1).lower() if match else ""
    attributes = {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTRIBUTE.finditer(inner[len(name) :])
        if m.group(1)
    }
    where = f"at byte offset {out.byte_offset(index)}"
    entity: Entity | None
    language: str | None = None
    if name in _HTML_SIMPLE_TAGS:
        entity = {"type": _HTML_SIMPLE_TAGS[name]}
        if name == "code" and attributes.get("class", "").startswith("language-"):
            language = attributes["class"].removeprefix("language-")
    elif name == "span":
        if attributes.get("class") != "tg-spoiler":
            raise parse_error(f'Tag "span" must have class "tg-spoiler" {where}')
        entity = {"type": "spoiler"}
    elif name == "a":
        href = attributes.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity = {"type": "text_mention", "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
        else:
            entity = {"type": "text_link", "url": href} if href else None
    elif name == "blockquote":
        entity = {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
    elif name == "tg-emoji":
        if "emoji-id" not in attributes:
            raise parse_error(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        entity = {"type": "custom_emoji", "custom_emoji_id": attributes["emoji-id"]}
    else:
        raise parse_error(f'Unsupported start tag "{name}" {where}')
    return _OpenTag(name=name, entity=entity, start=out.offset, language=language)


def _close_html_tag(out: _Builder, stack: list[_OpenTag], name: str, index: int) -> None:
    if not stack:
        raise parse_error(f"Unexpected end tag at byte offset {out.byte_offset(index)}")
    top = stack.pop()
    if top.name != name:
        raise parse_error(
            f'Unmatched end tag at byte offset {out.byte_offset(index)}, expected "</{top.name}>", found "</{name}>"'
        )
    parent = stack[-1] if stack else None
    if top.language and parent is not None and parent.name == "pre" and parent.entity is not None:
        # <pre><code class="language-x"> is one "pre" entity with a language, not two entities.
        parent.entity["language"] = top.language
        return
    if top.entity is not None:
        out.close(top.entity, top.start)


def _html_char_reference(out: _Builder, source: str, index: int) -> int:
    match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", source[index:])
    if match is None:
        out.add("&")
        return index + 1
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        out.add(chr(code))
    elif name in _NAMED_CHARS:
        out.add(_NAMED_CHARS[name])
    else:
        # Telegram knows only these four named references; anything else stays literal text.
        out.add(match.group(0))
    return index + len(match.group(0))


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
}


@dataclass
class _OpenMark:
    marker: str
    start: int
    index: int


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    out = _Builder(source)
    stack: list[_OpenMark] = []
    quote_start: int | None = None
    index = 0
    while index < len(source):
        char = source[index]
        at_line_start = index == 0 or source[index - 1] == "\n"
        if char == "\n" and quote_start is not None and not source.startswith(">", index + 1):
            out.close({"type": "blockquote"}, quote_start)
            quote_start = None
        if char == "\\":
            if index + 1 >= len(source):
                raise parse_error("Character '\\' is reserved and must be escaped with the preceding '\\'")
            out.add(source[index + 1])
            index += 2
        elif char == ">" and at_line_start:
            quote_start = out.offset if quote_start is None else quote_start
            index += 1
        elif char == "`":
            index = _markdown_code(out, source, index)
        elif source.startswith("__", index) or source.startswith("||", index) or char in "*_~":
            marker = source[index : index + 2] if source[index : index + 2] in ("__", "||") else char
            if stack and stack[-1].marker == marker:
                opened = stack.pop()
                out.close({"type": _MDV2_TOGGLES[marker][0]}, opened.start)
            else:
                stack.append(_OpenMark(marker, out.offset, index))
            index += len(marker)
        elif char == "[":
            stack.append(_OpenMark("[", out.offset, index))
            index += 1
        elif char == "]" and stack and stack[-1].marker == "[":
            opened = stack.pop()
            url, index = _markdown_url(out, source, index + 1, opened.index)
            out.close({"type": "text_link", "url": url}, opened.start)
        elif char in _MDV2_RESERVED:
            raise parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        else:
            out.add(char)
            index += 1
    if quote_start is not None:
        out.close({"type": "blockquote"}, quote_start)
    if stack:
        opened = stack[-1]
        name = "TextUrl" if opened.marker == "[" else _MDV2_TOGGLES[opened.marker][1]
        raise parse_error(f"Can't find end of {name} entity at byte offset {out.byte_offset(opened.index)}")
    return out.result()


def _markdown_code(out: _Builder, source: str, index: int) -> int:
    """`code` and ```pre```; inside them only ` and \\ are escaped."""
    fence = "```" if source.startswith("```", index) else "`"
    body_start = index + len(fence)
    cursor = body_start
    chunk: list[str] = []
    while not source.startswith(fence, cursor):
        if cursor >= len(source):
            name = "Pre" if fence == "```" else "Code"
            raise parse_error(f"Can't find end of {name} entity at byte offset {out.byte_offset(index)}")
        if source[cursor] == "\\" and cursor + 1 < len(source):
            cursor += 1
        chunk.append(source[cursor])
        cursor += 1
    body = "".join(chunk)
    entity: Entity = {"type": "code"}
    if fence == "```":
        entity = {"type": "pre"}
        first_line, newline, rest = body.partition("\n")
        if newline and first_line and " " not in first_line:
            entity["language"] = first_line
            body = rest
    start = out.offset
    out.add(body)
    out.close(entity, start)
    return cursor + len(fence)


def _markdown_url(out: _Builder, source: str, index: int, opened_at: int) -> tuple[str, int]:
    if not source.startswith("(", index):
        raise parse_error(f"Can't find end of TextUrl entity at byte offset {out.byte_offset(opened_at)}")
    cursor = index + 1
    url: list[str] = []
    while cursor < len(source) and source[cursor] != ")":
        if source[cursor] == "\\" and cursor + 1 < len(source):
            cursor += 1
        url.append(source[cursor])
        cursor += 1
    if cursor >= len(source):
        raise parse_error(f"Can't find end of a URL at byte offset {out.byte_offset(index)}")
    return "".join(url), cursor + 1


_LEGACY_MARKERS = {"*": "bold", "_": "italic"}


def parse_markdown_legacy(source: str) -> tuple[str, list[Entity]]:
    """Telegram's legacy Markdown: no nesting, and only the markers themselves need escaping."""
    out = _Builder(source)
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in "*_`[":
            out.add(source[index + 1])
            index += 2
        elif char in _LEGACY_MARKERS:
            end = source.find(char, index + 1)
            if end == -1:
                raise parse_error(f"Can't find end of the entity starting at byte offset {out.byte_offset(index)}")
            start = out.offset
            out.add(source[index + 1 : end])
            out.close({"type": _LEGACY_MARKERS[char]}, start)
            index = end + 1
        elif char == "`":
            index = _markdown_code(out, source, index)
        elif char == "[":
            end = source.find("]", index)
            if end == -1:
                raise parse_error(f"Can't find end of the entity starting at byte offset {out.byte_offset(index)}")
            url, after = _markdown_url(out, source, end + 1, index)
            start = out.offset
            out.add(source[index + 1 : end])
            out.close({"type": "text_link", "url": url}, start)
            index = after
        else:
            out.add(char)
            index += 1
    return out.result()


def _tags_for(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            return f'<pre><code class="language-{html.escape(language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(entity["custom_emoji_id"])}">', "</tg-emoji>"
    return None


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Render text + entities as Telegram-style HTML (the inverse of parse_html for its tags)."""
    units = text.encode("utf-16-le")

    def piece(start: int, end: int) -> str:
        return html.escape(units[start * 2 : end * 2].decode("utf-16-le"), quote=False)

    tagged = [(e, tags) for e in entities if (tags := _tags_for(e)) is not None]
    tagged.sort(key=lambda item: (item[0]["offset"], -item[0]["length"]))
    boundaries = sorted(
        {0, len(units) // 2} | {e["offset"] for e, _ in tagged} | {e["offset"] + e["length"] for e, _ in tagged}
    )
    result: list[str] = []
    open_stack: list[tuple[Entity, tuple[str, str]]] = []
    for position, next_position in zip(boundaries, [*boundaries[1:], None], strict=True):
        ending = [item for item in open_stack if item[0]["offset"] + item[0]["length"] == position]
        if ending:
            # Close down to the deepest ending entity, then reopen the survivors (handles overlaps).
            deepest = min(open_stack.index(item) for item in ending)
            reopen = [item for item in open_stack[deepest:] if item not in ending]
            for _, (_, closing) in reversed(open_stack[deepest:]):
                result.append(closing)
            del open_stack[deepest:]
            for item in reopen:
                result.append(item[1][0])
                open_stack.append(item)
        for item in tagged:
            if item[0]["offset"] == position and item[0]["length"] > 0:
                result.append(item[1][0])
                open_stack.append(item)
        if next_position is not None:
            result.append(piece(position, next_position))
    return "".join(result)
