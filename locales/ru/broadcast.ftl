# /broadcast для администраторов
broadcast-ask-text = Пришлите текст рассылки (жирный, курсив и ссылки сохранятся). /cancel — отменить.
broadcast-ask-audience = Кому отправить? В рассылку попадают только клиенты с согласием на рекламу.
broadcast-audience-all = Всем с согласием
broadcast-audience-level = По уровню
broadcast-audience-store = По магазину
broadcast-audience-birthday_month = По месяцу рождения
broadcast-audience-inactive = Неактивным N дней
broadcast-ask-level = Какой уровень?
broadcast-ask-store = Какой магазин?
broadcast-ask-month = День рождения в каком месяце?
broadcast-ask-days = Сколько дней без покупок? Пришлите число.
broadcast-no-choices = Пока не из чего выбрать.
broadcast-preview = ↑ Так сообщение увидят клиенты.
broadcast-count = Получателей: { $count }. Отправить?
broadcast-nobody = Под условия никто не подходит. Ничего не отправлено.
broadcast-send = Отправить
broadcast-cancel = Отмена
broadcast-cancelled = Рассылка отменена.
broadcast-preview-failed = Telegram не принял этот текст: проверьте оформление и пришлите снова.
broadcast-queued = Рассылка №{ $id } поставлена в очередь для { $queued } { $queued ->
        [one] клиента
        [few] клиентов
        [many] клиентов
       *[other] клиента
    }. Сообщу, когда она будет доставлена; ход — в /outbox.
broadcast-finished = Рассылка №{ $id } завершена: в очереди { $queued }, доставлено { $delivered }, заблокировали бота { $blocked }, ошибок { $failed }, пропущено { $skipped }.
error-invalid_audience = Такая аудитория не подходит.
error-invalid_broadcast_text = Текст не должен быть пустым и длиннее { $limit } символов.
broadcast-progress = Рассылка №{ $id } идёт: доставлено { $delivered } из { $queued }, ждут { $waiting }.
