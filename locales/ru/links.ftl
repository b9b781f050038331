# Staff: links between customers (the customer card's "Связи клиента") and /linktypes.
links-title = Связи клиента: { $name }
links-column-is = <b>Текущий клиент является</b>
links-column-for = <b>Для текущего клиента</b>
links-none = нет связей
links-button-add = ➕ Создать связь
links-button-remove = ✖ { $type }: { $name }
links-button-consent = Согласие на обработку данных дал(а) { $name }
links-ask-other = Введите начало фамилии или телефон клиента, с которым нужно связать.
links-nobody-found = Никого не нашлось. Попробуйте ещё раз.
links-pick = Выберите клиента:
links-form = Текущий клиент: <b>{ $this }</b>
    Выбранный клиент: <b>{ $other }</b>

    Левый столбец — «текущий клиент является … для выбранного», правый — «выбранный является … для текущего клиента».
links-button-save = Сохранить
links-button-cancel = Отмена
links-saved = Связи сохранены
links-removed = Связь удалена
links-consent-recorded = Согласие записано как данное законным представителем.
linktypes-title = <b>Справочник «Связи между клиентами»</b>
    ☑ слева / справа — отмечено по умолчанию в столбце «текущий клиент является» / «для текущего клиента».
linktypes-row = { $forward } { $name } { $backward }{ $state }
linktypes-inactive = (отключено)
linktypes-system = (системное)
linktypes-button-add = ➕ Добавить
linktypes-button-rename = ✏ { $name }
linktypes-button-off = ⛔ Отключить: { $name }
linktypes-button-on = ✅ Включить: { $name }
linktypes-button-forward = { $tick } слева: { $name }
linktypes-button-backward = { $tick } справа: { $name }
linktypes-ask-name = Напишите название: по-русски, а через «/» — по-английски. Например: Сестра / Sister
linktypes-done = Готово.
error-link_type_not_found = Такого типа связи нет (или он отключён).
error-link_type_system = Системный тип связи нельзя отключить: от него зависит работа программы.
error-link_not_found = Связь не найдена: возможно, её уже удалили.
error-link_self = Клиента нельзя связать с самим собой.
error-link_owner_no_card = У владельца карты нет своей карты: сначала выдайте ему карту.
error-link_not_representative = Этот клиент не указан законным представителем.
error-link_type_name = Название должно быть от 1 до { $max } символов.
