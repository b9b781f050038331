# Receipts at the till: /accrue, /redeem, /refund, /adjust, /cardstatus.
staff-ask-card = Номер карты или телефон клиента?
staff-ask-amount = Карта { $card }, баланс { POINTS($balance) } б. Сумма чека? Например 1234,50.
staff-ask-receipt = Номер чека? Если его нет, нажмите кнопку — номер придумает бот.
staff-button-no-receipt = Без номера чека
staff-ask-points = Карта { $card }, баланс { POINTS($balance) } б. Сколько баллов списать?
staff-ask-receipt-amount = Сумма чека?
staff-ask-code = Код из карты клиента в боте (6 цифр)?
staff-ask-refund-receipt = Номер чека для возврата?
staff-ask-refund-amount = Сумма возврата? Или нажмите «Весь чек».
staff-button-full-refund = Весь чек
staff-ask-adjust-points = Карта { $card }, баланс { POINTS($balance) } б. Сколько баллов: +N добавить, -N снять?
staff-ask-reason = Причина корректировки?
staff-ask-status = Карта { $card } сейчас: { $status }. Новый статус?
staff-usage-accrue = Формат: /accrue КАРТА СУММА [ЧЕК], например /accrue 9161234567 1234,50 A-17. Или просто /accrue.
staff-usage-redeem = Формат: /redeem КАРТА БАЛЛЫ СУММА_ЧЕКА КОД, например /redeem 9161234567 300 1500 123456. Или просто /redeem.
staff-usage-refund = Формат: /refund ЧЕК [СУММА], например /refund A-17 500. Или просто /refund.
staff-usage-adjust = Формат: /adjust КАРТА +N|-N ПРИЧИНА, например /adjust 9161234567 +50 компенсация. Или просто /adjust.
staff-usage-cardstatus = Формат: /cardstatus КАРТА active|accrual_only|payment_only|blocked. Или просто /cardstatus.
staff-accrue-ambiguous = «{ $typed }» — это сумма с пробелом или сумма и номер чека? Напишите сумму без пробелов; если номер чека из трёх цифр, проведите чек через /accrue без аргументов.
staff-accrue-done = ✅ Начислено { POINTS($points) } б. ({ PERCENT($percent) }) за чек { $receipt } на { MONEY($amount) }.
staff-accrue-nothing = Чек { $receipt } на { MONEY($amount) } записан; баллов за него не начислено.
staff-accrue-pending = Баллы станут доступны { $date }.
staff-accrue-discount = 🏷 Дайте скидку { MONEY($discount) } ({ PERCENT($percent) }) на чек { $receipt } на { MONEY($amount) }. Покупка записана.
staff-accrue-level-up = 🎉 Клиент перешёл на новый уровень.
staff-card-after = Баланс карты: { POINTS($balance) } б., ожидают: { POINTS($pending) } б.
staff-receipt-replayed = Этот чек уже был проведён — повторно ничего не начислено.
staff-redeem-done = ✅ Списано { POINTS($points) } б.
staff-refund-done = ↩️ Возврат { MONEY($amount) } по чеку { $receipt } (всего возвращено { MONEY($total) }). Снято { POINTS($reversed) } б., возвращено { POINTS($restored) } б.
staff-refund-debt = Баллов не хватило: { POINTS($debt) } б. записано в долг, его погасят следующие начисления.
staff-adjust-done = ✅ Корректировка { $points } б. проведена.
staff-cardstatus-done = Карта { $card }: статус «{ $status }».
staff-adjust-replayed = Эта корректировка уже проведена — повторно ничего не изменено.
staff-refund-replayed = Этот возврат уже проведён — повторно ничего не возвращено.
# Steps that say back what was taken, and what to type again after a refusal.
staff-ask-receipt-for = Чек на { MONEY($amount) }. Номер чека? Если его нет, нажмите кнопку — номер придумает бот.
staff-ask-receipt-amount-for = Списать { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [other] балла
       *[many] баллов
    }. Сумма чека?
staff-ask-code-for = Чек на { MONEY($amount) }, списать { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [other] балла
       *[many] баллов
    }. Код из карты клиента в боте (6 цифр)?
staff-ask-points-again = Сколько баллов списать?
staff-button-change-points = Изменить баллы
staff-again-amount = Введите сумму чека ещё раз.
staff-again-receipt-amount = Введите сумму чека ещё раз или нажмите «Изменить баллы».
staff-again-points = Введите число баллов ещё раз.
staff-again-code = Введите код ещё раз.
staff-again-adjust-points = Введите баллы ещё раз: +N добавить, -N снять.
# The summary confirmed before points move.
staff-summary-title-redeem = Проверьте перед списанием:
staff-summary-title-accrue = Чек больше { MONEY($threshold) } — проверьте перед начислением:
staff-summary-customer = Клиент: { $name }
staff-summary-no-customer = Клиент: у карты нет владельца
staff-summary-card = Карта: { $card }
staff-summary-receipt = Чек: { $receipt } на { MONEY($amount) }
staff-summary-paid = Оплата баллами: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [other] балла
       *[many] баллов
    }
staff-summary-earn = Будет начислено: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [other] балла
       *[many] баллов
    }
staff-summary-discount = Скидка клиенту: { MONEY($discount) }
staff-button-confirm = ✅ Подтвердить
staff-button-cancel-operation = ✖️ Отменить
staff-confirm-cancelled = Отменено: ничего не проведено — баллы не списаны и не начислены.
staff-confirm-stale = Эта сводка уже не действует: операция по ней проведена или отменена. Ничего не проведено повторно.
staff-confirm-code-stale = Код устарел или неверен — ничего не списано. Попросите клиента назвать текущий код из карты в боте и введите его: сводка появится снова.
# An answer that failed after the operation was committed.
staff-committed-unanswered = ⚠️ Ответ не дошёл с первого раза, но операция уже записана — повторять её не нужно, она есть в истории карты { $card }:
staff-committed-unanswered-receipt = ⚠️ Ответ не дошёл с первого раза, но операция уже записана — повторять её не нужно, она есть в истории карты:
