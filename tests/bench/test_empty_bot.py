"""The empty Rasa bot of `make bench` is what it claims: a stock Rasa server that answers every message with one
fixed text, so its throughput is Rasa's own floor and not a bot that fails fast."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from bench.load.empty_bot import empty_model, message_budget_ms
from bench.load.run import VENV_BIN, rasa_bot

MESSAGES = ["bonjour", "jai perdu ma carte d'identité", "hello", "/greet", "x" * 2000, "🙂 ?"]


def test_the_budget_of_five_times_plain_rasa() -> None:
    assert message_budget_ms(20.0) == pytest.approx(10.0)
    assert message_budget_ms(20.0, workers=2) == pytest.approx(20.0)
    assert message_budget_ms(0.0) != message_budget_ms(0.0)  # NaN: no yardstick, no budget


def test_the_empty_bot_trains_runs_and_answers_every_message(tmp_path: Path) -> None:
    model, seconds = empty_model(tmp_path / "empty", VENV_BIN / "rasa")
    assert model.parent == tmp_path / "empty" / "models" and seconds is not None
    with rasa_bot("empty Rasa bot", model, seconds, tmp_path / "empty", timeout=240) as bot:
        sender = f"test-{uuid.uuid4().hex[:8]}"
        for text in MESSAGES:
            reply = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                  timeout=30)
            assert reply.status_code == 200, text[:40]
            assert [part.get("text") for part in reply.json()] == ["Bonjour !"], text[:40]
