"""Structured logs: key=value lines through structlog's stdlib integration."""

from __future__ import annotations

import logging

import structlog


def setup_logging(level: str = "INFO") -> None:
    processors: list[structlog.typing.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("aiogram.event").setLevel(max(logging.getLevelName(level), logging.WARNING))
    # Even at DEBUG: aiosqlite's debug lines carry every statement's parameters (phones, Telegram
    # ids, names), and a log cannot be erased. Our own logs name customers by internal id.
    logging.getLogger("aiosqlite").setLevel(max(logging.getLevelName(level), logging.INFO))
