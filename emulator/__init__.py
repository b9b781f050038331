"""A local Telegram Bot API emulator for end-to-end tests and the browser sandbox.

    create_emulator_app(enforce_limits=True, global_rate=30, per_chat_rate=1.0, state_file=None) -> web.Application
        (state_file: users, chats and files saved there and loaded at start; the sandbox's ./sandbox-chats.json)
    running_emulator(port=0) -> async context manager yielding RunningEmulator(url, client, app)
    add_sandbox_routes(main_app, emulator, prefix="/emulator") -> mounts the emulator, serves /sandbox
    EmulatorClient(base_url) -> act as users, read chats, inject faults, read counters
    python -m emulator --host 127.0.0.1 --port 8081

Routes under the base URL: /bot{token}/{method}, /file/bot{token}/{path} (what aiogram's
TelegramAPIServer.from_base() expects), /control/... (see emulator.control_api) and /sandbox.
"""

from emulator.app import add_sandbox_routes, create_emulator_app
from emulator.client import (
    Button,
    CallbackAnswer,
    ChatMessage,
    ChatView,
    EmulatorClient,
    EmulatorError,
    Stats,
    User,
    WaitTimeout,
)
from emulator.personas import CASHIER_BORIS, CUSTOMER_ANNA, OWNER_OLGA, PERSONAS, Persona
from emulator.runner import RunningEmulator, running_emulator

__all__ = [
    "CASHIER_BORIS",
    "CUSTOMER_ANNA",
    "OWNER_OLGA",
    "PERSONAS",
    "Button",
    "CallbackAnswer",
    "ChatMessage",
    "ChatView",
    "EmulatorClient",
    "EmulatorError",
    "Persona",
    "RunningEmulator",
    "Stats",
    "User",
    "WaitTimeout",
    "add_sandbox_routes",
    "create_emulator_app",
    "running_emulator",
]
