# Domain errors: error-<code> for every DomainError code (services/errors.py).
error-domain_error = Не получилось выполнить действие.
error-not_found = Ничего не найдено.
error-forbidden = Недостаточно прав.
error-conflict = Конфликт: данные уже изменились.
error-validation_error = Неверные данные.
error-invalid_phone = Номер «{ $phone }» не похож на номер телефона. Пример: +7 916 123-45-67.
error-phone_region_not_allowed = Номера этой страны ({ $region }) в программе не участвуют.
error-phone_has_extension = Добавочные номера не поддерживаются: укажите мобильный номер без добавочного.
error-customer_not_found = Клиент не найден.
error-card_not_found = Карта не найдена.
error-card_blocked = Карта заблокирована.
error-card_not_valid = Карта сейчас не действует (вне срока действия).
error-accrual_not_allowed = По этой карте начисление баллов запрещено.
error-payment_not_allowed = Этой картой нельзя оплачивать баллами.
error-card_exists = Карта { $number } уже существует.
error-card_owned = Карта { $number } принадлежит другому клиенту: нужна явная перепривязка.
error-consent_required = Сначала нужно согласие на обработку персональных данных.
error-birthday_already_set = День рождения уже указан; изменить его может только сотрудник.
error-invalid_date = Дата «{ $value }» не подходит. Формат ДД.ММ.ГГГГ, не в будущем и не раньше 1900 года.
error-invalid_email = «{ $value }» не похоже на адрес электронной почты.
error-invalid_name = Имя выглядит неправильно: только буквы, пробелы и дефисы, до 100 символов.
error-staff_not_found = Сотрудник не найден.
error-store_not_found = Магазин не найден.
error-store_exists = Магазин с таким кодом уже есть.
error-invalid_role = Неизвестная роль. Возможные: { $roles }.
error-role_too_high = Для этого нужна роль не ниже «{ $role }».
error-not_staff = Эта команда только для сотрудников.
error-invite_invalid = Приглашение недействительно: оно уже использовано или истекло.
error-invalid_amount = Сумма указана неверно. Примеры: 1234, 1234.50, 1234,50.
error-insufficient_points = Недостаточно баллов.
error-cap_exceeded = Баллами можно оплатить не больше { $cap_percent }% чека: не больше { $max_units } { $max_units ->
        [one] балла
        [other] балла
       *[many] баллов
    } на чек { $receipt_kopecks } ₽.
error-receipt_too_large = Чек на { $amount_kopecks } ₽ больше предела программы — { $max_kopecks } ₽. Проверьте сумму: может быть, это опечатка или код клиента вместо суммы.
error-bad_code = Код неверный или устарел. Попросите клиента открыть карту в боте и назвать текущий код.
error-too_many_code_attempts = Слишком много неверных кодов. Попробуйте позже.
error-idempotency_conflict = Этот номер чека уже использован с другими данными.
error-receipt_not_found = Чек не найден.
error-refund_exceeds_receipt = Возврат больше суммы чека.
error-reason_required = Укажите причину.
error-adjustment_limit = Превышен дневной лимит ручных корректировок.
error-wrong_store = Чек относится к другому магазину.
error-staff_no_store = Ваша учётная запись сотрудника не привязана к магазину: операции по чекам недоступны. Обратитесь к администратору.
error-invite_would_demote = Вы уже сотрудник с ролью выше, чем в этом приглашении; оно не применено. Сменить роль может администратор.
error-unexpected = Что-то пошло не так. Мы уже разбираемся; попробуйте ещё раз чуть позже.
error-unexpected-staff = Что-то пошло не так. Если это была операция по карте, она могла записаться: прежде чем повторять, проверьте историю карты (/find).
error-unauthorized = Ключ API не передан, неизвестен или отозван.
error-bad_signature = Подпись запроса отсутствует, неверна или вне допустимого окна времени.
error-insufficient_scope = У этого ключа API нет права «{ $scope }».
error-api_key_not_found = Ключа API с таким префиксом нет.
error-invalid_setting = Недопустимое значение настройки «{ $key }».
error-level_not_found = Уровень не найден.
error-bad_cursor = Эта страница устарела: откройте историю заново.
