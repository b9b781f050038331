history-title = 📜 История операций, страница { $page } (сначала новые)
history-empty = Операций по карте пока нет.
history-nothing-here = Здесь больше ничего нет: история изменилась. Вернитесь к началу.
history-to-start = ⏮ К началу
history-previous = ◀ Назад
history-next = Дальше ▶
history-line = { $when } — { $what }: <b>{ $points }</b>
history-where = 🏬 { $store }
history-receipt = чек { $receipt }
history-receipt-amount = чек { $receipt } на { MONEY($amount) }
history-rate = ставка { PERCENT($rate) }
history-debt-repaid = в счёт долга { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }
history-reason = «{ $reason }»
history-kind-purchase_accrual = Начисление за покупку
history-kind-redemption = Оплата баллами
history-kind-refund_reversal = Списание при возврате
history-kind-refund_restore = Возврат баллов при возврате покупки
history-kind-manual_adjustment = Корректировка
history-kind-welcome_bonus = Приветственный бонус
history-kind-birthday_bonus = Бонус ко дню рождения
history-kind-opening_balance = Перенос баланса
history-kind-expiry = Сгорание баллов
history-kind-debt_repayment = Погашение долга
history-kind-discount_purchase = Покупка со скидкой
