card-caption =
    💳 Карта <b>{ $number }</b>
    Статус: { $status }
    Уровень: { $level }
    Доступно баллов: { POINTS($points) }
card-code =
    Код для оплаты баллами: <b>{ $code }</b>
    Действует ещё { $seconds } с. Назовите его кассиру, только если хотите оплатить баллами.
card-no-payment = Оплата баллами по этой карте сейчас недоступна.
card-refresh = 🔄 Обновить код
card-refreshed = Код обновлён
card-none = У вас пока нет карты: номер телефона привязан к другой карте, сотрудники разбираются. Мы напишем вам здесь.
card-status-active = активна
card-status-accrual_only = только начисление
card-status-payment_only = только оплата баллами
card-status-blocked = заблокирована
