"""The sandbox's saved state (emulator/persistence.py): with a state file the emulator's users,
chats and files are back after a restart; without one (tests) nothing is written; a file that
cannot be read is set aside, not lost, and the emulator starts empty."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from emulator import EmulatorClient, create_emulator_app
from emulator.files import placeholder_image
from tests.emulator.conftest import ANNA, TOKEN, make_bot


def files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())


@asynccontextmanager
async def serving(state_file: Path | None) -> AsyncIterator[EmulatorClient]:
    runner = web.AppRunner(create_emulator_app(enforce_limits=False, state_file=state_file), shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with EmulatorClient(f"http://{host}:{port}") as client:
            await client.register_bot(TOKEN)
            yield client
    finally:
        await runner.cleanup()


async def test_users_chats_and_files_come_back_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox-chats.json"
    async with serving(state) as client:
        created = await client.create_user(first_name="Вера", phone="79160000001")
        await client.send_text(ANNA, "/start")
        photo = await client.send_photo(ANNA, placeholder_image(side=32))
        bot = make_bot(client.base_url)
        try:
            await bot.send_message(ANNA, "<b>Привет</b>", reply_markup={"keyboard": [[{"text": "Да"}]]})
        finally:
            await bot.session.close()
        before = await client.chat(ANNA)
    async with serving(state) as client:
        after = await client.chat(ANNA)
        assert after.epoch > before.epoch  # pages that were open fetch everything again
        assert [m.raw for m in after.messages] == [m.raw for m in before.messages]
        assert after.reply_keyboard == before.reply_keyboard
        assert created.id in {user.id for user in await client.users()}
        file_id = photo.photo[-1]["file_id"] if photo.photo else ""
        async with client._http().get(f"{client.base_url}/control/files/{file_id}") as response:
            assert response.status == 200
            assert await response.read() == placeholder_image(side=32)
        again = await client.send_text(ANNA, "ещё")
        assert again.message_id == max(m.message_id for m in before.messages) + 1


async def test_without_a_state_file_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where a default file would land
    async with serving(None) as client:
        await client.send_text(ANNA, "/start")
    assert files_in(tmp_path) == []


async def test_an_unreadable_state_file_is_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "sandbox-chats.json"
    state.write_text("{not json", encoding="utf-8")
    async with serving(state) as client:
        assert (await client.chat(ANNA)).messages == []
        assert ANNA in {user.id for user in await client.users()}  # the personas are seeded as ever
    assert (tmp_path / "sandbox-chats.json.unreadable").read_text(encoding="utf-8") == "{not json"
    assert json.loads(state.read_text(encoding="utf-8"))["format"] == 1
