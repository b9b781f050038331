"""reply_markup validation: the mistakes Telegram rejects are the ones worth catching before production."""

from __future__ import annotations

from typing import Any

from emulator.errors import bad_request

Markup = dict[str, Any]

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MAX_CALLBACK_DATA_BYTES = 64


def parse_markup(raw: Any) -> Markup | None:
    """Validate and normalise a reply_markup of any of the four kinds; None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return {**raw, "inline_keyboard": [_inline_row(row) for row in _rows(raw["inline_keyboard"])]}
    if "keyboard" in raw:
        rows = [[_reply_button(button) for button in row] for row in _rows(raw["keyboard"])]
        if not any(rows):
            raise bad_request("keyboard must be non-empty")
        return {**raw, "keyboard": rows}
    if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
        return raw
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(raw: Any) -> list[list[Any]]:
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return raw


def _inline_row(row: list[Any]) -> list[dict[str, Any]]:
    for button in row:
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("BUTTON_TEXT_INVALID")
        actions = [key for key in _INLINE_ACTIONS if key in button]
        if len(actions) != 1:
            raise bad_request('can\'t find field "text" or exactly one action in the inline keyboard button')
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    return row


def _reply_button(button: Any) -> dict[str, Any]:
    normalised = {"text": button} if isinstance(button, str) else button
    if not isinstance(normalised, dict) or not normalised.get("text"):
        raise bad_request("BUTTON_TEXT_INVALID")
    return normalised


def inline_only(markup: Markup | None) -> Markup | None:
    """A Message object carries reply_markup only when it is an inline keyboard."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def has_callback_button(markup: Markup | None, data: str) -> bool:
    keyboard = (markup or {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == data for row in keyboard for button in row)
