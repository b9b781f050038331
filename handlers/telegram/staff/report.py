"""/report [today|week]: the staff member's and the store's totals."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from db.uow import UnitOfWork
from handlers.telegram.staff.access import require
from handlers.telegram.staff.common import business_tz, esc, local_datetime, money, pts
from handlers.telegram.staff.keyboards import ReportPeriod, button, column
from locales import Translator
from services import reports
from services.clock import Clock
from services.reports import ShiftReport, Totals
from services.staff import StaffView


def _totals(totals: Totals, tr: Translator, locale: str) -> str:
    return tr.get(
        locale, "staff-report-totals", accrued=pts(totals.accrued), redeemed=pts(totals.redeemed),
        refunded=money(totals.refunded_kopecks), reversed=pts(totals.reversed), receipts=str(totals.receipts),
        sales=money(totals.sales_kopecks), customers=str(totals.new_customers),
    )


def render_report(report: ShiftReport, member: StaffView, tr: Translator, locale: str, settings: Settings) -> str:
    store = esc(member.store_code) if report.store_id is not None and member.store_code else tr.get(
        locale, "staff-report-all-stores"
    )
    return "\n".join(
        [
            tr.get(
                locale, f"staff-report-title-{report.period}", start=local_datetime(report.starts_at, settings),
                end=local_datetime(report.ends_at, settings),
            ),
            "",
            tr.get(locale, "staff-report-mine", name=esc(member.name)),
            _totals(report.staff, tr, locale),
            "",
            tr.get(locale, "staff-report-store", store=store),
            _totals(report.store, tr, locale),
        ]
    )


async def _send(
    message: Message, member: StaffView, period: str, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    settings: Settings,
) -> None:
    report = await reports.shift_report(
        uow, staff_id=member.id, actor=member.actor, store_id=member.store_id, period=period, now=clock.now(),
        tz=business_tz(settings),
    )
    await message.answer(render_report(report, member, tr, locale, settings))


def get_router() -> Router:
    router = Router(name="staff-report")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("report"))
    async def report_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        period = (command.args or "").strip().lower()
        if period:
            await _send(message, member, period, uow, clock, tr, locale, settings)
            return
        await message.answer(
            tr.get(locale, "staff-ask-period"),
            reply_markup=column(
                *(button(tr.get(locale, f"staff-button-period-{p}"), ReportPeriod(period=p)) for p in reports.PERIODS)
            ),
        )

    @router.callback_query(ReportPeriod.filter())
    async def report_period(
        query: CallbackQuery, callback_data: ReportPeriod, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, settings: Settings, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await query.answer()
        assert isinstance(query.message, Message)
        await _send(query.message, member, callback_data.period, uow, clock, tr, locale, settings)

    return router
