# Staff in the bot: roles, access, invites, the staff list, dialogs and the command menu.
staff-role-owner = владелец
staff-role-admin = администратор
staff-role-manager = менеджер
staff-role-cashier = кассир
staff-no-store = без магазина
staff-cancelled = Отменено.
staff-button-cancel = ✖️ Отмена

staff-welcome = { $name }, вы теперь сотрудник: { $role }, магазин { $store }. Команды сотрудника — в меню бота.
staff-invite-created =
    Приглашение: { $role }, магазин { $store }. Ссылка одноразовая и действует 24 часа:
    { $link }
staff-invite-own-store = Мой магазин ({ $store })
staff-ask-role = Какую роль дать новому сотруднику?
staff-ask-store = В каком магазине он будет работать?
staff-usage-invite = Формат: /invite РОЛЬ [МАГАЗИН], например /invite cashier S1. Или просто /invite — бот спросит.

staff-list-title = Сотрудники:
staff-list-line = • { $name } — { $role }, { $store }, id { $telegram_id }
staff-list-line-inactive = • <s>{ $name }</s> — { $role }, { $store }, отключён
staff-button-deactivate = Отключить: { $name }
staff-deactivate-confirm = Отключить { $name } ({ $role }, магазин { $store })? Команды сотрудника у него пропадут сразу; вернуть можно новым приглашением.
staff-button-deactivate-yes = Да, отключить
staff-deactivated = { $name } больше не сотрудник.

staff-menu-find = Найти клиента
staff-menu-accrue = Начислить баллы за покупку
staff-menu-redeem = Списать баллы
staff-menu-refund = Возврат по чеку
staff-menu-newcustomer = Новый клиент
staff-menu-report = Отчёт за смену
staff-menu-shift = Магазин смены
staff-menu-newstore = Новый магазин
staff-menu-adjust = Ручная корректировка баллов
staff-menu-cardstatus = Статус карты
staff-menu-conflicts = Конфликты номеров
staff-menu-invite = Пригласить сотрудника
staff-menu-staff = Список сотрудников
staff-menu-broadcast = Рассылка клиентам
staff-menu-outbox = Очередь уведомлений
staff-menu-linktypes = Типы связей клиентов

staff-usage-newstore = Формат: /newstore КОД Название, например /newstore MAIN Магазин на Ленина. Код — латинские буквы, цифры, «-» и «_», до 32 знаков.
staff-store-created = Магазин «{ $name }» ({ $code }) создан. Теперь можно начислять и списывать баллы: /accrue, /redeem.
staff-shift-choose = Вы не закреплены за магазином. В каком магазине вы работаете сейчас? Выберите — бот запомнит, сменить можно командой /shift. Затем повторите операцию.
staff-shift-chosen = Магазин смены: «{ $store }» ({ $code }). Чеки будут проводиться в нём.
staff-shift-own-store = Вы закреплены за магазином { $store }: чеки проводятся в нём.

# /start and /help for staff (handlers/telegram/staff/welcome.py)
staff-start = { $name }, здравствуйте! Вы — { $role } в бонусной программе. Кнопки внизу — ваши команды.
staff-first-store = С чего начать: создайте первый магазин — /newstore MAIN Магазин на Ленина. После этого можно проводить чеки.
staff-first-ask-admin = С чего начать: в программе ещё нет магазина. Попросите владельца или администратора создать его (/newstore).
staff-first-invite = С чего начать: пригласите кассира — /invite cashier — и проведите первый чек: /accrue 9161234567 1500.
staff-first-receipt = С чего начать: клиент называет номер телефона (или показывает карту в боте), вы вводите /accrue 9161234567 1500 — баллы начислены.
staff-start-help = Все команды с примерами — /help.
staff-start-become-customer = Чтобы самому копить баллы как клиент, нажмите «📱 Поделиться номером». Нажимая её, вы соглашаетесь на обработку персональных данных по 152-ФЗ, политика версии { $version }.
staff-help-cashier =
    Команды кассира:
    /accrue 9161234567 1500 R-15 — начислить баллы за чек (карта или телефон, сумма, номер чека — необязательно)
    /redeem 9161234567 300 1500 123456 — оплатить баллами: баллы, сумма чека, код клиента из его /card
    /refund R-15 500 — возврат по чеку (сумма необязательна: без неё — весь остаток чека)
    /find Петрова — найти клиента по телефону, карте, фамилии, дню рождения или кодовому слову
    /newcustomer +79161234567 Анна — завести клиента без Telegram
    /report — отчёт за смену, /report week — за 7 дней
    /shift — магазин смены (если вы не закреплены за магазином)
    /cancel — прервать начатый диалог
    Любая команда без параметров ведёт по шагам.
staff-help-manager =
    Команды менеджера:
    /adjust 9161234567 +50 компенсация — ручная корректировка с причиной (дневной лимит действует)
    /cardstatus 9161234567 blocked — статус карты: active, accrual_only, payment_only, blocked
    /conflicts — конфликты номеров телефонов
    /invite cashier S1 — пригласить сотрудника (одноразовая ссылка на 24 часа)
    /staff — сотрудники
staff-help-admin =
    Команды администратора и владельца:
    /newstore MAIN Магазин на Ленина — создать магазин
    /broadcast — рассылка клиентам
    /outbox — очередь уведомлений
    /linktypes — типы связей клиентов
