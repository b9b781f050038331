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
error-store_not_found = Магазина с кодом «{ $code }» нет. Список магазинов: store list (в командной строке) или /shift.
error-invalid_scopes = Неизвестные права ключа: «{ $scopes }». Допустимы: { $allowed } (через запятую).
error-store_exists = Магазин с таким кодом уже есть.
error-invalid_role = Неизвестная роль. Возможные: { $roles }.
error-role_too_high = Для этого нужна роль не ниже «{ $role }».
error-not_staff = Эта команда только для сотрудников.
error-invite_invalid = Приглашение недействительно: оно уже использовано или истекло.
error-invalid_amount = Сумма указана неверно. Примеры: 1234, 1234.50, 1234,50.
error-insufficient_points = Недостаточно баллов.
error-cap_exceeded = Баллами можно оплатить не больше { PERCENT($cap_percent) } чека: не больше { POINTS($max_units) } { $max_units ->
        [one] балла
        [other] балла
       *[many] баллов
    } на чек { MONEY($receipt_kopecks) }.
error-receipt_too_large = Чек на { MONEY($amount_kopecks) } больше предела программы — { MONEY($max_kopecks) }. Проверьте сумму: может быть, это опечатка или код клиента вместо суммы.
error-bad_code = Код неверный или устарел. Попросите клиента открыть карту в боте и назвать текущий код.
error-code_already_used = Этот код уже использован. Попросите клиента открыть карту в боте и назвать новый код: он меняется каждую минуту.
error-too_many_code_attempts = { $scope ->
        [till] С этой кассы введено слишком много неверных кодов, оплата баллами с неё приостановлена
       *[card] С этой кассы введено слишком много неверных кодов для этой карты; на другой кассе клиент может оплатить баллами
    }. Повторите через { $minutes } { $minutes ->
        [one] минуту
        [few] минуты
       *[many] минут
    }.
error-idempotency_conflict = Этот номер чека уже использован с другими данными.
error-receipt_not_found = Чек не найден.
error-refund_exceeds_receipt = Возврат больше суммы чека.
error-reason_required = Укажите причину.
error-adjustment_limit = Превышен дневной лимит ручных корректировок.
error-wrong_store = Чек относится к другому магазину.
error-no_store_yet = В программе ещё нет ни одного магазина, а каждый чек проводится в магазине. Создайте первый прямо здесь: /newstore КОД Название, например /newstore MAIN Магазин на Ленина.
error-no_store_ask_admin = В программе ещё нет ни одного магазина, а каждый чек проводится в магазине. Попросите владельца или администратора создать его командой /newstore.
error-store_choice_needed = Выберите магазин смены: /shift.
error-invite_would_demote = Вы уже сотрудник с ролью выше, чем в этом приглашении; оно не применено. Сменить роль может администратор.
error-unexpected = Что-то пошло не так. Мы уже разбираемся; попробуйте ещё раз чуть позже.
error-unexpected-staff = Что-то пошло не так. Если это была операция по карте, она могла записаться: прежде чем повторять, проверьте историю карты (/find).
error-unauthorized = Ключ API не передан, неизвестен или отозван.
error-bad_signature = Подпись запроса отсутствует, неверна или вне допустимого окна времени.
error-signature_replayed = Этот подписанный запрос уже был принят. Подписывайте каждый запрос заново: новое время или, в пределах одной секунды, новый nonce (n=).
error-unsupported_media_type = Тело запроса должно быть JSON с заголовком Content-Type: application/json (кодировка, если указана, — charset=utf-8).
error-rate_limited = Слишком много запросов; повторите через { $retry_after } с.
error-insufficient_scope = У этого ключа API нет права «{ $scope }».
error-api_key_not_found = Ключа API с таким префиксом нет.
error-invalid_setting = Недопустимое значение настройки «{ $key }».
error-level_not_found = Уровень не найден.
error-bad_cursor = Эта страница устарела: откройте историю заново.
error-sandbox_database_holds_real_data = В этой базе есть настоящие данные (клиентов: { $customers }, сотрудников: { $staff }, и это не персонажи песочницы): песочница не станет добавлять в неё своих демо-сотрудников. Укажите в SANDBOX_DATABASE_URL отдельную базу или не задавайте её — тогда песочница возьмёт свой файл ./sandbox.db.
