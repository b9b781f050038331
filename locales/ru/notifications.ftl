# Сообщения клиентам; отправитель из outbox отрисовывает их на языке клиента.
notify-accrual = +{ POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    } за покупку. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-accrual-pending = +{ POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    } за покупку. Потратить их можно с { $available_on }.
notify-activation = { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    } теперь можно тратить. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-redemption = Вы оплатили покупку баллами: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-refund = Возврат: списано { POINTS($reversed) } { $reversed ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }, начисленных за покупку. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-refund-restored = Возврат: списано { POINTS($reversed) } { $reversed ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }, возвращено потраченных { POINTS($restored) } { $restored ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-level-up = Поздравляем! Ваш уровень теперь <b>{ $level }</b>.
notify-expiry-warning = { $date } сгорает: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }. Успейте потратить!
notify-expired = Баллы сгорели: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }. Баланс: { POINTS($balance) } { $balance ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }.
notify-birthday = С днём рождения! Желаем всего самого лучшего.
notify-birthday-bonus = С днём рождения! Дарим { POINTS($bonus) } { $bonus ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }, подарок действует до { $valid_until }.
notify-about = <i>О клиенте { $name }:</i>
# /outbox для администраторов
outbox-status-draft = черновик
outbox-status-sending = идёт
outbox-status-done = завершена
outbox-title = <b>Очередь сообщений</b>
outbox-counts =
    Ждут отправки: { $pending }
    Взяты отправителем: { $claimed }
    Отправляются: { $sending }
    Отправлено: { $sent }
    Пропущено (отписка, блокировка, удаление): { $skipped }
    Ошибка: { $failed }
    Доставка неизвестна (не повторяется): { $unknown }
outbox-broadcast = Рассылка №{ $id } ({ $status }): в очереди { $queued }, доставлено { $delivered }, заблокировали бота { $blocked }, ошибок { $failed }, пропущено { $skipped }, ждут { $waiting }
