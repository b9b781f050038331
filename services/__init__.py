"""Use cases: the rules of the program. No aiogram, no aiohttp here (tests/test_layers.py)."""
