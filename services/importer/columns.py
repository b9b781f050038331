"""The columns of a client-base export: the Russian CRM export (ITigris Optima) and an English
equivalent. Header cells are matched case-insensitively with spaces collapsed."""

from __future__ import annotations

FIELDS = (
    "surname", "name", "patronymic", "sex", "birthday", "phone", "extra_phone", "email", "city", "card",
    "balance", "orders", "sms", "email_consent", "registered",
)

# The export's own column names, in its order: what export-customers writes.
RUSSIAN = (
    "Фамилия", "Имя", "Отчество", "Пол", "Дата рождения", "Телефон", "Доп. телефон", "Email", "Город",
    "Дисконтная карта", "Сумма на дисконтной карте", "Сумма заказов", "Рассылка смс", "Рассылка email",
    "Дата регистрации",
)
ENGLISH = (
    "Surname", "Name", "Patronymic", "Sex", "Birthday", "Phone", "Extra phone", "Email", "City", "Discount card",
    "Card balance", "Orders total", "SMS consent", "Email consent", "Registered",
)
_ALIASES = {
    "surname": ("last name", "family name"),
    "name": ("first name", "given name"),
    "patronymic": ("middle name",),
    "sex": ("gender",),
    "birthday": ("date of birth", "birth date"),
    "phone": ("mobile phone", "phone number", "моб. телефон", "телефон клиента"),
    "extra_phone": ("additional phone", "доп. телефон", "дополнительный телефон"),
    "email": ("e-mail", "электронная почта"),
    "city": ("город клиента",),
    "card": ("card", "card number", "номер карты"),
    "balance": ("balance", "card balance", "сумма на карте"),
    "orders": ("orders", "orders sum", "purchases total"),
    "sms": ("sms", "sms newsletter", "рассылка sms"),
    "email_consent": ("email newsletter", "e-mail consent"),
    "registered": ("registration date", "registered at", "date registered"),
}
REQUIRED = ("name", "phone")


def normalise(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).strip().lower()


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field, ru, en in zip(FIELDS, RUSSIAN, ENGLISH, strict=True):
        table[normalise(ru)] = field
        table[normalise(en)] = field
    for field, names in _ALIASES.items():
        for alias in names:
            table.setdefault(normalise(alias), field)
    return table


HEADER_TABLE = _table()


def map_header(cells: list[str]) -> dict[int, str]:
    """Column index -> field, for the recognised header cells (the first of duplicates wins)."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for index, cell in enumerate(cells):
        field = HEADER_TABLE.get(normalise(cell))
        if field is not None and field not in used:
            mapping[index] = field
            used.add(field)
    return mapping
