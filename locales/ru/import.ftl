# Import and export of a client base (python -m bot import-customers / export-customers).
import-col-line = Строка
import-col-outcome = Итог
import-col-reason = Причина
import-col-surname = Фамилия
import-col-name = Имя
import-col-phone = Телефон
import-col-balance = Сумма на карте не перенесена
import-col-notes = Примечания
import-outcome-card = клиент с картой по телефону
import-outcome-family = член семьи владельца карты (без своей карты)
import-outcome-no_card_phone = без карты: телефон неверный или короткий
import-outcome-no_card_frequent = без карты: телефон встречается 5 и более раз
import-outcome-no_card_unbound = без карты: номер занят непривязанной картой
import-outcome-duplicate = повтор строки, пропущен
import-outcome-already_imported = уже импортирован раньше
import-outcome-error = ошибка в строке, не импортирован
import-reason-no_phone = телефон не указан
import-reason-invalid_phone = «{ $phone }» — не номер мобильного телефона
import-reason-phone_region = номер другой страны: карты по нему не выдаются
import-reason-frequent_phone = телефон встречается в файле { $times } { $times ->
        [one] раз
        [few] раза
        [many] раз
       *[other] раза
    }
import-reason-card_unbound = карта { $card } уже есть, но не привязана к клиенту
import-reason-phone_is_card = телефон уже является картой { $card }: клиент связан с её владельцем
import-reason-duplicate = такая же строка уже есть выше в файле
import-reason-field_count = { $found } полей вместо { $expected }
import-reason-required = не заполнено обязательное поле { $column }
import-reason-bad_value = неверное значение в поле { $column }: «{ $value }»
import-reason-bad_amount = неверная сумма в поле { $column }: «{ $value }»
import-reason-bad_date = неверная дата в поле { $column }: «{ $value }» (нужно ДД.ММ.ГГГГ или ДД-ММ-ГГГГ)
import-reason-owner_row_failed = строка владельца карты не записалась
import-reason-database = база данных отклонила строку: { $detail }
import-reason-unclosed_quote = кавычка, открытая в этой строке, не закрыта ни в ней, ни в пределах { $lines ->
    [one] { $lines } строки
   *[other] { $lines } строк
}
import-reason-record_too_long = строка длиннее { $limit } КиБ
import-note-extra_phone_dropped = доп. телефон неверный, не сохранён
import-note-email_dropped = email неверный, не сохранён
import-note-legacy_card_not_digits = номер дисконтной карты не из цифр, карта не создана
import-note-legacy_card_taken = номер дисконтной карты уже занят, карта не создана
import-note-balance_not_carried = своей карты нет: сумма на карте и сумма заказов не перенесены
import-summary-title = Импорт { $file }: строк { $rows } (пробный прогон: { $dry })
import-summary-count = { $outcome }: { $count }
import-summary-written = Записано: клиентов { $customers }, карт { $cards } (из них старых номеров { $legacy }), связей { $links }, начальных баллов { $points }
import-summary-rounded = Отброшено дробных частей при округлении до целых баллов: { POINTS($points) }
import-summary-not-carried = Не перенесено сумм на картах клиентов без своей карты: { MONEY($rubles) } (см. отчёт)
import-summary-report = Отчёт о пропущенных клиентах: { $path }
import-summary-time = Время: { $seconds } с
export-done = Выгружено клиентов: { $count } в { $path }
error-import_file_not_found = Файл { $path } не найден.
error-import_too_large = Файл слишком большой: { $size_mb } МБ при ограничении { $limit_mb } МБ.
error-import_bad_encoding = Файл не удаётся прочитать: { $reason }. Сохраните его как CSV в UTF-8 или Windows-1251.
error-import_bad_header = Не найдены нужные столбцы ({ $missing }). Первая строка файла: { $found }
