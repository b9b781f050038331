# /newcustomer and /conflicts.
staff-ask-phone = Телефон нового клиента?
staff-ask-name = Имя клиента (можно с фамилией: «Анна Петрова»)?
staff-usage-newcustomer = Формат: /newcustomer ТЕЛЕФОН ИМЯ [ФАМИЛИЯ], например /newcustomer +79161234567 Анна Петрова. Или просто /newcustomer.
staff-newcustomer-done = ✅ Клиент { $name } создан, карта { $card } ({ $phone }). Когда он откроет бота с этим номером, карта станет его.
staff-conflicts-none = Открытых конфликтов номеров нет.
staff-conflicts-title = Открытых конфликтов: { $count }. Номер сменил владельца: решите, кому остаётся карта.
staff-conflict = #{ $id } · { $phone } · карта { $card }, баланс { POINTS($balance) } б. · с { $created }
staff-button-move-card = Передать карту новому аккаунту
staff-button-keep-card = Оставить карту прежнему владельцу
staff-conflict-moved = Конфликт #{ $id }: карта { $card } передана новому аккаунту.
staff-conflict-kept = Конфликт #{ $id }: карта { $card } осталась у прежнего владельца.
