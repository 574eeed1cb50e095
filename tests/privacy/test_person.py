"""Export and erasure of one person's data, by conversation id or by phone number, in every table."""

from __future__ import annotations

import json
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.future import Engine

from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.store import SmsStore, sms_contacts, sms_traffic
from bot.db import get_engine
from bot.handoff.callbacks import CallbackBook, callbacks_table
from bot.handoff.store import HandoffQueue, messages_table, requests_table
from bot.privacy.cli import main
from bot.privacy.person import Person, erase_person, export_person
from bot.privacy.retention import tracker_engine

PEPPER = "test-pepper"
PHONE = "+33612345678"
NOW = datetime(2026, 12, 2, 12, 0, 0)


@pytest.fixture
def databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, Engine]:
    """A project database and a tracker store with two people in them: the SMS user and a REST user."""
    monkeypatch.setenv("NUMECRIVAIN_SMS_PEPPER", PEPPER)
    project = get_engine(f"sqlite:///{tmp_path / 'numecrivain.db'}")
    sms_id = pseudonymise(PHONE, PEPPER)
    queue = HandoffQueue(project)
    for sender in (sms_id, "rest:someone-else", "rest:abc"):
        request = queue.enqueue(sender, "sms" if sender == sms_id else "rest", [{"role": "user", "text": "aide"}])
        queue.add_message(request.id, f"Bonjour {sender}", "camille")
    store = SmsStore(project)
    store.upsert_contact(sms_id, PHONE, "android", NOW)
    store.record_traffic(sms_id, "in", 1, NOW)
    store.upsert_contact(pseudonymise("+33699999999", PEPPER), "+33699999999", "android", NOW)
    CallbackBook(project).add("06 12 34 56 78", "rest", None, None)
    CallbackBook(project).add("06 12 34 56 79", "rest", None, None)
    path = tmp_path / "tracker.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                       "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)")
    connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', 1.0, ?)",
                           [(sms_id, '{"text": "bonjour"}'), ("rest:abc", '{"text": "salut"}'),
                            ("rest:someone-else", '{"text": "autre"}')])
    connection.commit()
    connection.close()
    return project, tracker_engine(f"sqlite:///{path}")


def test_export_by_phone_gathers_sms_conversation_contact_callbacks_and_handoff(
    databases: tuple[Engine, Engine]
) -> None:
    exported = export_person(Person.by_phone("06 12 34 56 78", PEPPER), databases)
    tables = exported["tables"]
    sms_id = pseudonymise(PHONE, PEPPER)
    assert [row["sender_id"] for row in tables["events"]] == [sms_id]
    assert tables["events"][0]["data"] == {"text": "bonjour"}
    assert [row["phone"] for row in tables["sms_contacts"]] == [PHONE]
    assert [row["phone"] for row in tables["handoff_callbacks"]] == [PHONE]
    assert [row["sender_id"] for row in tables["handoff_requests"]] == [sms_id]
    assert [row["text"] for row in tables["handoff_messages"]] == [f"Bonjour {sms_id}"]
    assert len(tables["sms_traffic"]) == 1
    json.dumps(exported)  # JSON-ready: dates as text


def test_erase_by_conversation_id_without_its_channel_prefix(databases: tuple[Engine, Engine]) -> None:
    project, tracker = databases
    counts = erase_person(Person.by_conversation("abc"), databases)
    assert counts == {"events": 1, "handoff_requests": 1, "handoff_messages": 1}
    with project.connect() as conn:
        assert {row.sender_id for row in conn.execute(select(requests_table))} == {
            pseudonymise(PHONE, PEPPER), "rest:someone-else"}
        assert len(conn.execute(select(messages_table)).all()) == 2
    with tracker.connect() as conn:
        assert sorted(row[0] for row in conn.exec_driver_sql("SELECT sender_id FROM events")) == [
            "rest:someone-else", pseudonymise(PHONE, PEPPER)]


def test_erase_by_phone_leaves_nothing_of_that_person_and_everything_of_others(
    databases: tuple[Engine, Engine], tmp_path: Path
) -> None:
    project, _ = databases
    counts = erase_person(Person.by_phone("+33 6 12 34 56 78", PEPPER), databases)
    assert counts == {"events": 1, "handoff_requests": 1, "handoff_messages": 1, "sms_contacts": 1,
                      "sms_traffic": 1, "handoff_callbacks": 1}
    assert export_person(Person.by_phone(PHONE, PEPPER), databases)["tables"] == {}
    with project.connect() as conn:
        assert [row.phone for row in conn.execute(select(callbacks_table))] == ["+33612345679"]
        assert [row.phone for row in conn.execute(select(sms_contacts))] == ["+33699999999"]
        assert conn.execute(select(sms_traffic)).all() == []
    files = b"".join(path.read_bytes() for path in tmp_path.iterdir() if ".db" in path.name)
    assert b"+33612345678" not in files, "the erased number is left in no database file"
    assert pseudonymise(PHONE, PEPPER).encode() not in files


def test_cli_exports_to_a_private_file_and_erases_after_confirmation(
    databases: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    project, tracker = databases
    urls = ["--db-url", str(project.url), "--tracker-url", str(tracker.url)]
    output = tmp_path / "export.json"
    assert main([*urls, "export", "--phone", "06 12 34 56 78", "--output", str(output)]) == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert json.loads(output.read_text())["tables"]["sms_contacts"][0]["phone"] == PHONE
    monkeypatch.setattr("builtins.input", lambda _prompt: "non")
    assert main([*urls, "erase", "--phone", "06 12 34 56 78"]) == 2
    assert "Rien n'a été effacé" in capsys.readouterr().err
    monkeypatch.setattr("builtins.input", lambda _prompt: "oui")
    assert main([*urls, "erase", "--phone", "06 12 34 56 78"]) == 0
    assert json.loads(capsys.readouterr().out)["erased"]["sms_contacts"] == 1
    assert main([*urls, "export", "--conversation", "abc"]) == 0
    assert [row["sender_id"] for row in json.loads(capsys.readouterr().out)["tables"]["events"]] == ["rest:abc"]
    assert main([*urls, "purge"]) == 0
    assert "events" in json.loads(capsys.readouterr().out)
