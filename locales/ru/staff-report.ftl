# /report: totals of the staff member and of the store.
staff-ask-period = Отчёт за какой период?
staff-button-period-today = Сегодня
staff-button-period-week = 7 дней
staff-report-title-today = 📊 Отчёт за сегодня ({ $start } — { $end })
staff-report-title-week = 📊 Отчёт за 7 дней ({ $start } — { $end })
staff-report-mine = <b>Вы ({ $name })</b>
staff-report-store = <b>Магазин { $store }</b>
staff-report-all-stores = все магазины
staff-report-totals =
    Чеков: { $receipts } на { MONEY($sales) }
    Начислено: { POINTS($accrued) } б.
    Списано: { POINTS($redeemed) } б.
    Возвраты: { MONEY($refunded) } (снято { POINTS($reversed) } б.)
    Новых клиентов: { $customers }
