"""Ready-made people for the sandbox; fixed ids let the main app's sandbox config name its staff."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    id: int
    first_name: str
    last_name: str
    username: str
    phone: str
    role_ru: str
    role_en: str
    language_code: str = "ru"


# Phones are valid Russian mobiles written the way Telegram sends contacts: digits, no "+".
CUSTOMER_ANNA = Persona(100001, "Анна", "Смирнова", "anna_customer", "79161234567", "Покупатель", "Customer")
CASHIER_BORIS = Persona(200002, "Борис", "Кузнецов", "boris_cashier", "79031234568", "Кассир", "Cashier")
OWNER_OLGA = Persona(300003, "Ольга", "Иванова", "olga_owner", "79261234569", "Владелец", "Owner")

PERSONAS: tuple[Persona, ...] = (CUSTOMER_ANNA, CASHIER_BORIS, OWNER_OLGA)
