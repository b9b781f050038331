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
staff-deactivated = { $name } больше не сотрудник.

staff-menu-find = Найти клиента
staff-menu-accrue = Начислить баллы за покупку
staff-menu-redeem = Списать баллы
staff-menu-refund = Возврат по чеку
staff-menu-newcustomer = Новый клиент
staff-menu-report = Отчёт за смену
staff-menu-adjust = Ручная корректировка баллов
staff-menu-cardstatus = Статус карты
staff-menu-conflicts = Конфликты номеров
staff-menu-invite = Пригласить сотрудника
staff-menu-staff = Список сотрудников
staff-menu-broadcast = Рассылка клиентам
staff-menu-outbox = Очередь уведомлений
staff-menu-linktypes = Типы связей клиентов
