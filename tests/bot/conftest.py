"""Bot tests import the action package from bot/: run them from there (``cd bot && python -m
pytest ../tests/bot``), which puts bot/ on the import path."""

from pathlib import Path

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
