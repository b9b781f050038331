"""The customer's main menu (a reply keyboard) and the filters every customer feature shares."""

from __future__ import annotations

from functools import lru_cache

from aiogram import F
from aiogram.filters import MagicData
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.magic_filter import MagicFilter

from locales import SUPPORTED, Translator, translator

# Button -> its text key; the same features as the commands.
BUTTONS = {
    "card": "menu-card",
    "balance": "menu-balance",
    "history": "menu-history",
    "profile": "menu-profile",
    "help": "menu-help",
}
_ROWS = (("card", "balance"), ("history", "profile"), ("help",))

PRIVATE = F.chat.type == "private"
PRIVATE_CALLBACK = F.message.chat.type == "private"
# Features for registered customers; strangers fall through to the registration prompt.
REGISTERED = MagicData(F.customer.is_not(None))


@lru_cache(maxsize=16)
def main_menu(tr: Translator, locale: str) -> ReplyKeyboardMarkup:
    """One keyboard per language, built once: it goes with nearly every answer, and building it cost
    5-6 % of a /balance update's CPU (benchmark 1). aiogram keyboards are mutable models; this one
    is shared, so nothing may change it."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=tr.get(locale, BUTTONS[name])) for name in row] for row in _ROWS],
        resize_keyboard=True,
        is_persistent=True,
    )


def button(name: str) -> MagicFilter:
    """Matches the menu button in any language: after /language the old keyboard may still show."""
    tr = translator()
    return F.text.in_({tr.get(locale, BUTTONS[name]) for locale in SUPPORTED})
