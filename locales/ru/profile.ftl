profile-text =
    👤 Профиль
    Имя: { $name }
    Телефон: { $phone }
    День рождения: { $birthday }
    E-mail: { $email }
    Язык: { $language }
    Рекламные сообщения: { $marketing }
profile-not-set = не указан
profile-not-set-name = не указано
profile-on = включены
profile-off = выключены
profile-edit-name = ✏️ Имя
profile-edit-birthday = 🎂 День рождения
profile-edit-email = ✉️ E-mail
profile-notifications = 🔔 Уведомления
profile-marketing-turn-on = 📣 Получать акции
profile-marketing-turn-off = 🔕 Не получать акции
profile-language = 🌐 Язык
profile-back = ◀ Назад
profile-ask-name = Напишите, как к вам обращаться (только буквы, до 100 символов). /cancel — отмена.
profile-ask-birthday = Напишите дату рождения в формате ДД.ММ.ГГГГ, например 05.03.1990. Её можно указать только один раз. /cancel — отмена.
profile-ask-email = Напишите адрес электронной почты или «-», чтобы удалить его. /cancel — отмена.
profile-need-text = Нужен текст, а не файл или стикер.
profile-saved = Сохранено ✅
profile-cancelled = Хорошо, ничего не меняем.
profile-notifications-title = 🔔 Уведомления (нажмите, чтобы включить или выключить):
profile-kind-accrual = Начисления
profile-kind-redemption = Оплата баллами
profile-kind-refund = Возвраты
profile-kind-expiry_warning = Скоро сгорят баллы
profile-kind-expired = Баллы сгорели
profile-kind-level_up = Новый уровень
