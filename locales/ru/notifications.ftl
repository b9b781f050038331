# Сообщения клиентам; отправитель из outbox отрисовывает их на языке клиента.
notify-accrual = +{ $points } б. за покупку. Баланс: { $balance } б.
notify-accrual-pending = +{ $points } б. за покупку. Они станут доступны { $available_on }.
notify-activation = { $points } б. теперь можно тратить. Баланс: { $balance } б.
notify-redemption = Вы оплатили баллами { $points } б. Баланс: { $balance } б.
notify-refund = Возврат: списано { $reversed } б., начисленных за покупку. Баланс: { $balance } б.
notify-refund-restored = Возврат: списано { $reversed } б., возвращено потраченных { $restored } б. Баланс: { $balance } б.
notify-level-up = Поздравляем! Ваш уровень теперь <b>{ $level }</b>.
notify-expiry-warning = { $date } сгорят { $points } б. Успейте потратить!
notify-expired = Сгорело { $points } б. Баланс: { $balance } б.
notify-birthday = С днём рождения! Желаем всего самого лучшего.
notify-birthday-bonus = С днём рождения! Дарим { $bonus } б., они действуют до { $valid_until }.
notify-about = <i>О клиенте { $name }:</i>
# /outbox для администраторов
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
