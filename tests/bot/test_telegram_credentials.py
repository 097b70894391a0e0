"""bot/credentials-telegram.yml: the default channels plus Telegram, configured only by the
three TELEGRAM_* environment variables (scripts/stack.sh uses it when TELEGRAM_ACCESS_TOKEN is set)."""

import pytest
import rasa.shared.utils.io
from rasa.shared.exceptions import RasaException

from conftest import BOT_DIR

TELEGRAM = BOT_DIR / "credentials-telegram.yml"


def test_telegram_credentials_add_telegram_to_the_default_channels_from_the_environment(monkeypatch):
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_VERIFY", "huanxin_bot")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://example.org/webhooks/telegram/webhook")
    with_telegram = rasa.shared.utils.io.read_config_file(str(TELEGRAM))
    default = rasa.shared.utils.io.read_config_file(str(BOT_DIR / "credentials.yml"))
    assert with_telegram["telegram"] == {
        "access_token": "123:abc",
        "verify": "huanxin_bot",
        "webhook_url": "https://example.org/webhooks/telegram/webhook",
    }
    assert {k: v for k, v in with_telegram.items() if k != "telegram"} == default
    assert "telegram" not in default


def test_telegram_credentials_without_the_environment_fail_instead_of_using_placeholders(monkeypatch):
    for name in ("TELEGRAM_ACCESS_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises((RasaException, ValueError)):
        rasa.shared.utils.io.read_config_file(str(TELEGRAM))
