"""Wiring only: settings, the app factory, the runners and the Telegram side of the ports."""
