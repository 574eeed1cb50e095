"""The tracker store keeps a turn's cost flat without ever serving a conversation that differs from the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import PHONE_MASK
from bot.tracker_store import RedactingSQLTrackerStore


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}, parse_data={"text": text}))  # type: ignore[arg-type]  # Rasa's NLUPredictionData types no key
    tracker.update(BotUttered(f"réponse à {text}"))


def store_on(path: Path, **kwargs: Any) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path), **kwargs)


async def greeted_then_read_elsewhere(
    tmp_path: Path, sender_id: str
) -> tuple[RedactingSQLTrackerStore, RedactingSQLTrackerStore, DialogueStateTracker, DialogueStateTracker]:
    """Two processes on one database: `here` saves a greeting, `there` reads the conversation back."""
    here, there = store_on(tmp_path / "tracker.db"), store_on(tmp_path / "tracker.db")
    tracker = DialogueStateTracker(sender_id, slots=[])
    turn(tracker, "bonjour")
    await here.save(tracker)
    elsewhere = await there.retrieve(sender_id)
    assert elsewhere is not None
    return here, there, tracker, elsewhere


@pytest.fixture
def no_replay(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every read of a whole conversation from SQL (Rasa's retrieve)."""
    reads: list[str] = []
    real = SQLTrackerStore.retrieve

    async def counting(self: SQLTrackerStore, sender_id: str) -> DialogueStateTracker | None:
        reads.append(sender_id)
        return await real(self, sender_id)

    monkeypatch.setattr(SQLTrackerStore, "retrieve", counting)
    return reads


async def test_the_next_turn_uses_the_saved_tracker_without_reading_the_conversation_again(
    tmp_path: Path, no_replay: list[str]
) -> None:
    store = store_on(tmp_path / "tracker.db")
    tracker = DialogueStateTracker("rest:a", slots=[])
    for index in range(30):
        turn(tracker, f"question {index}")
        await store.save(tracker)
        assert await store.retrieve("rest:a") is tracker
    assert no_replay == []


async def test_a_conversation_another_process_wrote_to_is_read_from_the_database(
    tmp_path: Path, no_replay: list[str]
) -> None:
    here, there, tracker, elsewhere = await greeted_then_read_elsewhere(tmp_path, "rest:b")
    turn(elsewhere, "et ensuite")
    await there.save(elsewhere)
    current = await here.retrieve("rest:b")
    assert current is not tracker and current is not None
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["bonjour", "et ensuite"]


async def test_a_tracker_changed_after_it_was_saved_is_not_served(tmp_path: Path, no_replay: list[str]) -> None:
    store = store_on(tmp_path / "tracker.db")
    tracker = DialogueStateTracker("rest:c", slots=[])
    turn(tracker, "bonjour")
    await store.save(tracker)
    turn(tracker, "jamais enregistré")  # e.g. a turn that failed before its save
    current = await store.retrieve("rest:c")
    assert current is not tracker and current is not None
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["bonjour"]


async def test_after_a_turn_with_a_phone_number_the_next_turn_sees_it_masked(
    tmp_path: Path, no_replay: list[str]
) -> None:
    store = store_on(tmp_path / "tracker.db")
    tracker = DialogueStateTracker("rest:d", slots=[])
    turn(tracker, "bonjour")
    await store.save(tracker)
    turn(tracker, "rappelez-moi au 06 12 34 56 78")
    await store.save(tracker)
    current = await store.retrieve("rest:d")
    assert current is not tracker and current is not None
    assert current.latest_message is not None
    text = current.latest_message.text or ""
    assert PHONE_MASK in text and "12 34 56 78" not in text
    assert next(e.text for e in current.events if isinstance(e, UserUttered)) == "bonjour"
    assert len(current.events) == len(tracker.events)
    assert no_replay == []  # kept masked in memory, not read back from SQL
    from_disk = await SQLTrackerStore.retrieve(store, "rest:d")
    assert from_disk is not None and from_disk.current_state() == current.current_state()


async def test_erased_conversations_are_not_served_from_memory(tmp_path: Path) -> None:
    store = store_on(tmp_path / "tracker.db")
    tracker = DialogueStateTracker("rest:e", slots=[])
    turn(tracker, "bonjour")
    await store.save(tracker)
    with sqlite3.connect(tmp_path / "tracker.db") as connection:
        connection.execute("DELETE FROM events WHERE sender_id = 'rest:e'")
    assert await store.retrieve("rest:e") is None


class RecordingBroker:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


async def test_the_event_broker_gets_each_new_event_once_masked_without_a_reload(
    tmp_path: Path, no_replay: list[str]
) -> None:
    broker = RecordingBroker()
    store = store_on(tmp_path / "tracker.db", event_broker=broker)
    tracker = DialogueStateTracker("rest:f", slots=[])
    for text in ("bonjour", "mon numéro 06 12 34 56 78", "merci"):
        turn(tracker, text)
        await store.save(tracker)
    assert len(broker.published) == len(tracker.events) == 9
    assert {event["sender_id"] for event in broker.published} == {"rest:f"}
    published = json.dumps(broker.published, ensure_ascii=False)
    assert "12 34 56 78" not in published and PHONE_MASK in published
    assert no_replay == []  # Rasa's stream_events reloads the whole conversation on every save


async def test_a_tracker_behind_the_database_is_not_kept(tmp_path: Path, no_replay: list[str]) -> None:
    here, there, stale, ahead = await greeted_then_read_elsewhere(tmp_path, "rest:g")
    turn(ahead, "deuxième")
    turn(ahead, "troisième")
    await there.save(ahead)
    await here.save(stale)  # a process that missed the other's turns (no lock store): saves nothing new
    current = await here.retrieve("rest:g")
    assert current is not None and current is not stale
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["bonjour", "deuxième", "troisième"]
