"""Rasa's SQL event broker on the project database, and the usage figures read from what it stores."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import func, select

from bot import db
from bot.conversation_events import conversation_events
from bot.event_broker import ProjectEventBroker
from bot.paths import PROJECT_ROOT
from bot.secretariat.tokens import create_token
from bot.secretariat.usage import TrackerUnavailableError, read_events, usage_report
from tests.conftest import Stack


def _user(sender: str, ts: float, intent: str, text: str, channel: str = "rest") -> dict:
    return {"sender_id": sender, "event": "user", "timestamp": ts, "text": text, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.postgres.yml", "endpoints.prod.yml"])
def test_every_endpoints_file_makes_rasa_build_our_broker_on_the_project_database(
        endpoints: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    for name in ("ACTION_ENDPOINT_URL", "NUMECRIVAIN_ACTIONS_TOKEN", "TRACKER_HOST", "TRACKER_PORT", "TRACKER_DB",
                 "TRACKER_USER", "TRACKER_PASSWORD", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"):
        monkeypatch.setenv(name, "1")  # the file's other sections need their variables to be read at all
    broker = asyncio.run(EventBroker.create(read_endpoint_config(str(PROJECT_ROOT / endpoints), "event_broker")))
    assert isinstance(broker, ProjectEventBroker)
    assert str(broker.engine.url) == url
    assert broker.is_ready()


def test_published_events_are_stored_and_counted_by_the_usage_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    broker = ProjectEventBroker(url)
    start = datetime(2026, 11, 24, 10, tzinfo=timezone.utc).timestamp()
    broker.publish({"sender_id": "a", "event": "action", "timestamp": start, "name": "action_session_start"})
    broker.publish(_user("a", start + 1, "procedure_passport", "passeport"))
    broker.publish({"sender_id": "a", "event": "bot", "timestamp": start + 2, "text": "Le passeport..."})
    broker.publish(_user("b", start + 5, "nlu_fallback", "appelez moi au 06 12 34 56 78", channel="sms"))
    assert broker.flush()
    with db.get_engine(url).connect() as connection:
        rows = connection.execute(select(conversation_events).order_by(conversation_events.c.id)).all()
    assert [(row.sender_id, row.type_name, row.intent_name, row.action_name) for row in rows] == [
        ("a", "action", None, "action_session_start"), ("a", "user", "procedure_passport", None),
        ("a", "bot", None, None), ("b", "user", "nlu_fallback", None)]
    assert json.loads(rows[1].data)["text"] == "passeport"
    report = usage_report(url)
    assert report.conversations == 2
    assert report.conversations_by_channel == {"rest": 1, "sms": 1}
    assert [item["id"] for item in report.top_procedures] == ["passport"]
    assert "06 12" not in repr(report.as_dict())


def test_broker_and_usage_figures_on_postgresql(postgres_url: str) -> None:
    broker = ProjectEventBroker(postgres_url)
    start = datetime(2026, 11, 24, 10, tzinfo=timezone.utc).timestamp()
    broker.publish(_user("rest:pg-1", start, "procedure_passport", "passeport"))
    broker.publish(_user("pg-2", start + 60, "request_human", "un conseiller", channel="webchat"))
    assert broker.flush()
    report = usage_report(postgres_url)
    assert report.conversations == 2 and report.handoff["requests"] == 1
    assert report.conversations_by_channel == {"rest": 1, "webchat": 1}


def test_close_writes_every_queued_event_in_order(tmp_path: Path) -> None:
    broker = ProjectEventBroker(f"sqlite:///{tmp_path / 'project.db'}")
    for number in range(1200):  # more than one batch
        broker.publish(_user("a", float(number), "greet", f"message {number}"))
    asyncio.run(broker.close())
    with broker.engine.connect() as connection:
        stamps = connection.execute(select(conversation_events.c.timestamp)
                                    .order_by(conversation_events.c.id)).scalars().all()
    assert stamps == [float(number) for number in range(1200)]


def test_a_broken_database_never_breaks_the_reply(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broker = ProjectEventBroker(f"sqlite:///{tmp_path / 'project.db'}")
    with broker.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE conversation_events")
    broker.publish(_user("a", 1.0, "greet", "mon numéro 06 12 34 56 78"))  # logged, not raised
    assert broker.flush()
    assert "not stored" in caplog.text and "06 12" not in caplog.text


def test_usage_figures_of_a_database_without_events_say_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db.make_engine(url).connect().close()  # the file exists, without any table
    with pytest.raises(TrackerUnavailableError, match="no conversation events"):
        list(read_events(url))


@pytest.mark.stack
def test_a_conversation_reaches_the_broker_table_and_the_usage_figures(stack: Stack) -> None:
    sender = f"broker-{uuid.uuid4().hex[:8]}"  # the REST channel stores it as "rest:<sender>"
    engine = db.get_engine(stack.database_url)

    def stored() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(conversation_events)
                                          .where(conversation_events.c.sender_id.like(f"%{sender}"))).scalar_one())

    headers = {"Authorization": f"Bearer {create_token(engine, 'Métropole (test)', is_admin=True)}"}
    before = requests.get(f"{stack.web_url}/api/v1/usage", headers=headers, timeout=30)
    assert before.status_code == 200
    for text in ("bonjour", "jai perdu ma carte d identité"):
        reply = requests.post(stack.rest_url, json={"sender": sender, "message": text}, timeout=60)
        assert reply.status_code == 200 and reply.json()
    deadline = time.monotonic() + 30  # written by Rasa's broker thread, just after each reply
    while stored() < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored() >= 4  # session start, two user messages, the bot's answers
    with engine.connect() as connection:
        kinds = {row.type_name for row in connection.execute(
            select(conversation_events.c.type_name).where(conversation_events.c.sender_id.like(f"%{sender}")))}
    assert {"user", "bot", "action"} <= kinds
    after = requests.get(f"{stack.web_url}/api/v1/usage", headers=headers, timeout=30).json()
    assert after["conversations"] == before.json()["conversations"] + 1
    assert after["conversations_by_channel"].get("rest", 0) >= 1
