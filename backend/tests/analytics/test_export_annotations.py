"""`ledger export-annotations` writes the analysts' intent corrections as
bot/data/nlu/<language>/reviewed.yml in the bot's layout: without identity data, copies within
the export, texts already in the training data or its evaluation sets; a stale file goes when no
correction is left (docs/insights.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import yaml

from huanxin_testkit.stream_events import Conv
from ledger.cli import main, migrate
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.services.analytics import ingest_batch

TRAINING = """version: "3.1"
nlu:
- intent: promise_to_pay
  examples: |
    - 我下个月才能还
"""
HELDOUT = """version: "3.1"
nlu:
- intent: ask_fees
  examples:
  - text: "滞纳金怎么算"
"""


def bot_dir(root: Path) -> Path:
    (root / "data" / "nlu" / "zh").mkdir(parents=True)
    (root / "data" / "nlu" / "en").mkdir(parents=True)
    (root / "nlu_eval").mkdir()
    (root / "data" / "nlu" / "zh" / "payments.yml").write_text(TRAINING, encoding="utf-8")
    (root / "nlu_eval" / "heldout_zh.yml").write_text(HELDOUT, encoding="utf-8")
    return root


async def annotate(url: str, labels: list[tuple[str, str]]) -> None:
    """One conversation, each (text, intent) a borrower message labelled with that intent."""
    conv = Conv("export-a")
    for text, _ in labels:
        conv.user("nlu_fallback", 0.2)
        conv.events[-1]["text"] = text
        conv.events[-1]["parse_data"]["text"] = text
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        await ingest_batch(sessions, conv.events)
        door = DeskDoor(sessions, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
        for event, (_, intent) in zip(conv.events, labels, strict=True):
            await door.insights_annotate("export-a", "rita", event_id=event["huanxin_event_id"], intent=intent)
    finally:
        await engine.dispose()


def test_the_command_writes_reviewed_yml_without_duplicates_training_texts_or_identity_data(
    tmp_path, monkeypatch, capsys
):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    migrate(url)
    labels = [
        ("下周五我一定还上", "promise_to_pay"),  # new: exported
        ("下周五，我一定还上！", "promise_to_pay"),  # the same text again
        ("我下个月才能还", "request_payment_plan"),  # in the training data (as promise_to_pay)
        ("滞纳金怎么算？", "ask_fees"),  # a held-out text: never trained on
        ("手机号 13800000001", "inform"),  # identity data
        ("[我](loan_number)要还款", "pay_now"),  # Rasa's entity markup
    ]
    asyncio.run(annotate(url, labels))
    bot = bot_dir(tmp_path / "bot")
    stale = bot / "data" / "nlu" / "en" / "reviewed.yml"
    stale.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["export-annotations", "--bot-dir", str(bot)]) == 0

    written = bot / "data" / "nlu" / "zh" / "reviewed.yml"
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    assert data["nlu"] == [{"intent": "promise_to_pay", "examples": "- 下周五我一定还上\n"}]
    assert "13800000001" not in written.read_text(encoding="utf-8")
    assert not stale.exists()  # no English correction: the old file is gone
    out = capsys.readouterr().out
    assert "zh: 1 example(s)" in out and "in_training 2" in out and "identity 1" in out and "duplicate 1" in out
    assert "payload 1" in out and "en: 0 example(s) -> no file" in out

    # run again: the file's own examples are not "in the training data"
    assert main(["export-annotations", "--bot-dir", str(bot), "--language", "zh"]) == 0
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["nlu"] == data["nlu"]
