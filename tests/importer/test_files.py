"""Import of small files: encodings and delimiters, broken rows, refused files, the rules against
an existing database, dry run, legacy cards, opening balances and levels, and export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Card, Customer, CustomerLink, Lot, Operation
from db.uow import UnitOfWork
from services import cards, customers
from services.clock import FrozenClock
from services.exporter import export_customers
from services.importer import import_customers
from services.importer.reading import ImportBadEncoding, ImportBadHeader, ImportFileTooLarge
from services.ledger import check_invariants
from services.phones import PhonePolicy
from services.stores import add_store

RU_HEADER = (
    "Фамилия;Имя;Отчество;Пол;Дата рождения;Телефон;Доп. телефон;Email;Город;Дисконтная карта;"
    "Сумма на дисконтной карте;Сумма заказов;Рассылка смс;Рассылка email;Дата регистрации"
)
EN_HEADER = (
    "Surname,Name,Patronymic,Sex,Birthday,Phone,Extra phone,Email,City,Discount card,Card balance,"
    "Orders total,SMS consent,Email consent,Registered"
)
FREQUENT = "+7 (495) 000-00-01"
ROWS = [
    # surname, name, patronymic, sex, birthday, phone, extra, email, city, card, balance, orders, sms, email, reg
    ["Иванов", "Иван", "Иванович", "Мужской", "01.02.1980", "8 (916) 100-00-01", "", "i@example.ru", "Псков",
     "", "1 234,56", "35000,00", "Да", "Нет", "16-09-2015"],
    ["Иванова", "Мария", "", "Женский", "02-03-1982", "+79161000001", "", "", "Псков", "", "10,00", "100,00",
     "Нет", "Нет", "17-09-2015"],
    ["Петров", "Пётр", "", "Мужской", "", "911125", "", "", "", "55501", "99,99", "0", "Нет", "Да", "01.01.2020"],
    ["Сидоров", "Семён", "", "Мужской", "", "нет", "", "", "", "", "5,00", "0", "Нет", "Нет", "01.01.2020"],
    *[
        ["Магазинов", f"Клиент{chr(0x430 + i)}", "", "Мужской", "", FREQUENT, "", "", "", "", "1,00", "0", "Нет",
         "Нет", f"0{i + 1}.02.2020"]
        for i in range(5)
    ],
    ["Смирнова", "Анна", "", "Женский", "29.02.2004", "9161000002", "89161000003", "bad-email", "Москва", "",
     "0,00", "120000", "Да", "Да", "02.02.2021"],
]
# Outcomes of ROWS on an empty database.
EXPECTED = {"card": 2, "family": 1, "no_card_phone": 2, "no_card_frequent": 5}


def write_file(path: Path, rows: list[list[str]], *, encoding: str, delimiter: str = ";", english: bool = False,
               bom: bool = False) -> Path:
    header = EN_HEADER.split(",") if english else RU_HEADER.split(";")
    lines = [delimiter.join(header)]
    for row in rows:
        cells = [f'"{c}"' if delimiter in c else c for c in row]
        if english:
            cells = [{"Мужской": "Male", "Женский": "Female", "Да": "Yes", "Нет": "No"}.get(c, c) for c in cells]
        lines.append(delimiter.join(cells))
    data = "\r\n".join(lines).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


async def run(uow: UnitOfWork, clock: FrozenClock, path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return await import_customers(uow, clock, path=path, policy=PhonePolicy(), **kwargs)  # type: ignore[arg-type]


async def count(uow: UnitOfWork, model: type) -> int:
    return await uow.read(lambda s: s.scalar(select(func.count()).select_from(model)))  # type: ignore[arg-type, return-value]


def outcomes(report) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in report.counts.items() if v}


async def test_rules_on_a_small_file(uow: UnitOfWork, clock: FrozenClock, tmp_path: Path) -> None:
    store = await add_store(uow, clock, code="S1", name="Main", actor="test")
    report = await run(uow, clock, write_file(tmp_path / "a.csv", ROWS, encoding="cp1251"), store_code="S1")
    stored = await uow.read(lambda s: s.execute(select(Customer.store_id).distinct()))
    assert [row[0] for row in stored] == [store.id]
    assert outcomes(report) == EXPECTED
    skipped = {row.line: row for row in report.skipped}
    assert skipped[3].outcome == "family" and skipped[3].reason == "phone_is_card"
    assert skipped[4].reason == "invalid_phone" and skipped[5].reason == "invalid_phone"
    assert skipped[6].reason == "frequent_phone" and skipped[6].reason_args == {"times": 5}
    assert "email_dropped" in skipped[11].notes  # row with a card, listed because of its notes

    # The family member uses the first client's card.
    found = await customers.find_customers(uow, "Иванова", phone_policy=PhonePolicy(), full_access=True)
    assert found[0].card_number == "9161000001"
    # Legacy card 55501 is the primary card of the client whose phone is invalid, with the balance.
    legacy = await cards.find_card(uow, clock, "55501", PhonePolicy())
    assert legacy.balance == 9_900 and legacy.is_primary  # 99.99 RUB -> 99 whole points

    # Opening balance: one active lot, expiring after the program's expiry period; orders set the level.
    first = await cards.find_card(uow, clock, "89161000001", PhonePolicy())
    assert first.balance == 123_400

    async def lots(session):  # type: ignore[no-untyped-def]
        return (await session.execute(select(Lot).where(Lot.card_id == first.id))).scalars().all()

    (lot,) = await uow.read(lots)
    assert lot.status == "active" and lot.expires_at == clock.now() + timedelta(days=365)
    silver = await cards.find_card(uow, clock, "9161000002", PhonePolicy())
    assert first.level_id != silver.level_id  # 35 000 RUB -> silver, 120 000 RUB -> gold
    await check_invariants(uow)


async def test_windows_1251_and_utf8_files_give_the_same_result(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    cp1251 = write_file(tmp_path / "cp.csv", ROWS, encoding="cp1251")
    utf8_bom = write_file(tmp_path / "bom.csv", ROWS, encoding="utf-8", bom=True)
    utf8_comma = write_file(tmp_path / "comma.csv", ROWS, encoding="utf-8", delimiter=",")
    english = write_file(tmp_path / "en.csv", ROWS, encoding="utf-8", delimiter=",", english=True)
    dry = [await run(uow, clock, path, dry_run=True) for path in (cp1251, utf8_bom, utf8_comma, english)]
    assert [(r.encoding, r.delimiter) for r in dry] == [("cp1251", ";"), ("utf-8-sig", ";"), ("utf-8", ","),
                                                         ("utf-8", ",")]
    assert all(outcomes(r) == EXPECTED for r in dry)
    assert await count(uow, Customer) == 0  # dry runs write nothing
    await run(uow, clock, cp1251)
    state = (await count(uow, Customer), await count(uow, Card), await count(uow, Operation))
    for path in (utf8_bom, utf8_comma, english):
        again = await run(uow, clock, path)
        assert outcomes(again) == {"already_imported": len(ROWS)}, path.name
    assert (await count(uow, Customer), await count(uow, Card), await count(uow, Operation)) == state


async def test_a_broken_row_in_the_middle_is_reported_and_the_rest_imported(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    rows = [
        [f"Фамилия{chr(0x430 + i)}".replace("Фамилия", "Кузнецов"), "Олег", "", "Мужской", "", f"+7916200000{i}",
         "", "", "", "", "10,00", "0", "Нет", "Нет", "01.01.2020"]
        for i in range(9)
    ]
    rows[3][10] = "12,34,5"  # a bad amount
    rows[5] = rows[5][:7]  # a truncated line
    rows[6][4] = "31.02.1990"  # no such date
    rows[7][1] = ""  # the name is required
    rows[8][11] = "999999999999999999999,00"  # beyond 64 bits: once crashed the whole import on SQLite
    report = await run(uow, clock, write_file(tmp_path / "b.csv", rows, encoding="utf-8"))
    errors = {row.line: row.reason for row in report.skipped if row.outcome == "error"}
    assert errors == {5: "bad_amount", 7: "field_count", 8: "bad_date", 9: "required", 10: "bad_amount"}
    assert report.counts["card"] == 4
    assert await count(uow, Customer) == 4
    await check_invariants(uow)


async def test_oversized_and_wrongly_encoded_files_are_refused(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    good = write_file(tmp_path / "ok.csv", ROWS, encoding="cp1251")
    with pytest.raises(ImportFileTooLarge):
        await run(uow, clock, good, max_bytes=100)
    text = (tmp_path / "ok.csv").read_bytes().decode("cp1251")
    for name, data in {
        "utf16.csv": text.encode("utf-16"),
        "koi8.csv": text.encode("koi8_r"),
        "binary.csv": bytes(range(256)) * 10,
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImportBadEncoding):
            await run(uow, clock, tmp_path / name)
    (tmp_path / "other.csv").write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    with pytest.raises(ImportBadHeader):
        await run(uow, clock, tmp_path / "other.csv")
    assert await count(uow, Customer) == 0


async def test_a_phone_that_is_already_a_card_links_to_its_owner(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    owner = await customers.create_walk_in(
        uow, clock, phone="+79161000001", name="Ольга", phone_policy=PhonePolicy(), actor="test"
    )
    report = await run(uow, clock, write_file(tmp_path / "c.csv", ROWS[:2], encoding="cp1251"))
    assert outcomes(report) == {"family": 2}

    async def links(session):  # type: ignore[no-untyped-def]
        return (await session.execute(select(CustomerLink))).scalars().all()

    found = await uow.read(links)
    assert {link.from_customer_id for link in found} == {owner.id}
    assert {link.card_id for link in found} == {owner.card_id}


async def test_export_writes_the_import_format_without_deleted_customers(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    await run(uow, clock, write_file(tmp_path / "d.csv", ROWS, encoding="cp1251"))
    gone = (await customers.find_customers(uow, "Смирнова", phone_policy=PhonePolicy(), full_access=True))[0]
    await customers.delete_personal_data(uow, clock, customer_id=gone.id, actor="test")
    result = await export_customers(uow, clock, path=tmp_path / "out.csv")
    assert result.customers == len(ROWS) - 1
    text = (tmp_path / "out.csv").read_bytes().decode("cp1251")
    assert text.splitlines()[0] == RU_HEADER
    # The phone is spreadsheet-safe: a quote in front of its +.
    assert "Смирнова" not in text and "Иванов;Иван;Иванович;Мужской;01.02.1980;'+79161000001" in text
    again = await run(uow, clock, tmp_path / "out.csv")
    assert again.counts["already_imported"] == len(ROWS) - 1
    assert again.changed_nothing
