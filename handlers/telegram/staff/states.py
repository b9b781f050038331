"""The guided dialogs: what each bare staff command asks, step by step."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class FindDialog(StatesGroup):
    query = State()


class AccrueDialog(StatesGroup):
    card = State()
    amount = State()
    receipt = State()


class RedeemDialog(StatesGroup):
    card = State()
    points = State()
    receipt_amount = State()
    code = State()


class ConfirmDialog(StatesGroup):
    pending = State()  # a summary waits for Confirm or Cancel


class RefundDialog(StatesGroup):
    receipt = State()
    amount = State()


class AdjustDialog(StatesGroup):
    card = State()
    points = State()
    reason = State()


class CardStatusDialog(StatesGroup):
    card = State()
    status = State()


class NewCustomerDialog(StatesGroup):
    phone = State()
    name = State()


class InviteDialog(StatesGroup):
    role = State()
    store = State()


ALL_DIALOGS = (
    FindDialog, AccrueDialog, RedeemDialog, ConfirmDialog, RefundDialog, AdjustDialog, CardStatusDialog,
    NewCustomerDialog, InviteDialog,
)
