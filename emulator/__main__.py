"""python -m emulator --host 127.0.0.1 --port 8081 [--no-limits] [--global-rate 30] [--per-chat-rate 1]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from emulator.runner import serve_forever


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Local Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--no-limits", action="store_true", help="do not answer 429 to floods")
    parser.add_argument("--global-rate", type=int, default=30, help="messages per second per bot")
    parser.add_argument("--per-chat-rate", type=float, default=1.0, help="messages per second per chat")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_forever(
                args.host,
                args.port,
                enforce_limits=not args.no_limits,
                global_rate=args.global_rate,
                per_chat_rate=args.per_chat_rate,
            )
        )


if __name__ == "__main__":
    main()
