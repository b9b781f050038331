"""The sandbox's chats survive a restart, through the real command line: `python -m bot run` without
BOT_TOKEN keeps the emulator's users and messages in ./sandbox-chats.json next to ./sandbox.db, so
after a restart the chat history and the personas created on the page are still there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import LOGS, AppProcess, base_env, free_port, logged_errors

pytestmark = pytest.mark.e2e

ANNA = 100_001
TIMEOUT = 30.0


async def test_chats_and_created_personas_survive_a_restart(tmp_path: Path) -> None:
    LOGS.clear()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = AppProcess("sandbox", base_env(HTTP_PORT=str(port)), tmp_path, url, tmp_path / "restart.log")
    await app.start("run")
    try:
        await app.wait_healthy()
        async with EmulatorClient(f"{url}/emulator") as client:
            created = await client.create_user(first_name="Вера", last_name="Новая", phone="79160000001")
            sent = await client.send_text(ANNA, "/start")
            greeting = await client.wait_for(ANNA, lambda m: True, TIMEOUT, after=sent)
    finally:
        assert await app.stop() == 0
    saved = json.loads((tmp_path / "sandbox-chats.json").read_text(encoding="utf-8"))
    assert created.id in {user["id"] for user in saved["users"]}

    await app.start("run")
    try:
        await app.wait_healthy()
        async with EmulatorClient(f"{url}/emulator") as client:
            users = {user.id: user for user in await client.users()}
            assert users[created.id].first_name == "Вера"
            history = await client.messages(ANNA, include_user=True)
            assert [m.text for m in history[:2]] == ["/start", greeting.text]
            # The conversation goes on where it was: new messages take new ids.
            again = await client.send_text(ANNA, "/start")
            assert again.message_id > history[-1].message_id
            await client.wait_for(ANNA, lambda m: True, TIMEOUT, after=again)
        assert logged_errors(app) == []
    finally:
        await app.stop()
