# /find and the customer card staff see.
staff-ask-query = Кого ищем? Телефон, номер карты, фамилия, дата рождения (ДД.ММ.ГГГГ) или кодовое слово.
staff-find-none = По запросу «{ $query }» никого не нашлось.
staff-find-found = { $count ->
        [one] Найден { $count } клиент
        [few] Найдено { $count } клиента
       *[many] Найдено { $count } клиентов
    }{ $paged ->
        [yes] , показаны { $first }–{ $last }
       *[no] {""}
    }. Откройте карточку клиента:
staff-find-previous = ◀ Предыдущие
staff-find-next = Следующие ▶
staff-find-stale = Этот поиск устарел: отправьте /find ещё раз.
staff-card-name = 👤 <b>{ $name }</b>
staff-card-phone = Телефон: { $phone }
staff-card-birthday = День рождения: { $date }
staff-card-no-card = Карты нет.
staff-card-card = Карта { $number } — { $status }
staff-card-level = Уровень: { $level }
staff-card-balance = Баланс: { POINTS($balance) } б., ожидают начисления: { POINTS($pending) } б.
staff-card-debt = Долг по возвратам: { POINTS($debt) } б.
staff-card-expiring = Сгорят { $date }: { POINTS($points) } б.
staff-card-operations = Последние операции:
staff-card-operation = { $at } · { $kind } · { $points } { $receipt }
staff-card-no-operations = Операций пока нет.
staff-card-links = 👪 Связи
staff-card-erase = 🗑 Удалить персональные данные
staff-erase-ask =
    ⚠️ Удалить персональные данные клиента { $name }?
    Сразу сотрутся имя, телефон, день рождения, e-mail и привязка к Telegram. Карта будет заблокирована, баллы пропадут, связи и семья распадутся. Обезличенные записи об операциях останутся. Отменить удаление нельзя.
staff-erase-confirm = 🗑 Да, удалить
staff-erase-done = Персональные данные клиента №{ $id } удалены.
staff-status-active = активна
staff-status-accrual_only = только начисление
staff-status-payment_only = только оплата
staff-status-blocked = заблокирована
staff-op-purchase_accrual = покупка
staff-op-redemption = оплата баллами
staff-op-refund_reversal = возврат: списание
staff-op-refund_restore = возврат: баллы вернулись
staff-op-manual_adjustment = корректировка
staff-op-welcome_bonus = приветственный бонус
staff-op-birthday_bonus = бонус ко дню рождения
staff-op-opening_balance = начальный остаток
staff-op-expiry = сгорание
staff-op-debt_repayment = погашение долга
staff-op-discount_purchase = покупка со скидкой
