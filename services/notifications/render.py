"""Texts of the messages, rendered at send time in the recipient's language."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from services.ledger.amounts import shown_points
from services.notifications import kinds
from services.notifications.ports import Texts


def format_date(value: str | None) -> str:
    return "" if not value else date.fromisoformat(value).strftime("%d.%m.%Y")


def _args(kind: str, payload: dict[str, Any], locale: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key in ("points", "balance", "reversed", "restored", "debt", "bonus"):
        if key in payload:
            args[key] = shown_points(int(payload[key] or 0))
    for key in ("available_on", "date", "valid_until"):
        if key in payload:
            args[key] = format_date(payload[key])
    if kind == kinds.LEVEL_UP:
        # "level" alone: a message queued before level names had languages.
        name = payload.get("level_en" if locale == "en" else "level_ru") or payload.get("level") or payload.get("code")
        args["level"] = html.escape(str(name or ""))
    return args


def render(texts: Texts, locale: str, kind: str, payload: dict[str, Any], *, about_name: str | None = None) -> str:
    """The text of an outbox message. Broadcast texts are the admin's own HTML and are not rendered."""
    args = _args(kind, payload, locale)
    key = f"notify-{kind.replace('_', '-')}"
    if kind == kinds.ACCRUAL and payload.get("pending"):
        key = "notify-accrual-pending"
    elif kind == kinds.BIRTHDAY and int(payload.get("bonus") or 0) > 0:
        key = "notify-birthday-bonus"
    elif kind == kinds.REFUND and int(payload.get("restored") or 0) > 0:
        key = "notify-refund-restored"
    text = texts.get(locale, key, **args)
    if about_name is not None:
        text = texts.get(locale, "notify-about", name=about_name) + "\n" + text
    return text
