"""Personal data never reaches the conversation history on disk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import tracker_store
from bot.privacy import EMAIL_MASK, PHONE_MASK, redact_personal_data
from bot.tracker_store import RedactingSQLTrackerStore


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon numéro : 06 12 34 56 78 merci", f"mon numéro : {PHONE_MASK} merci"),
        ("0612345678", PHONE_MASK),
        ("+33 6 12 34 56 78", PHONE_MASK),
        ("écrivez à jean.dupont@example.org", f"écrivez à {EMAIL_MASK}"),
        ("j'habite à Lille, 59000", "j'habite à Lille, 59000"),
        ("", ""),
    ],
)
def test_personal_data_is_masked_and_the_rest_kept(text: str, expected: str) -> None:
    assert redact_personal_data(text) == expected


async def test_tracker_store_file_never_contains_the_number(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker("user-1", slots=[])
    tracker.update(ActionExecuted("action_listen"))
    parse_data = {"text": "rappelez-moi au 06 12 34 56 78", "intent": {"name": "request_callback"}}
    message = UserUttered("rappelez-moi au 06 12 34 56 78", {"name": "request_callback", "confidence": 1.0},
                          parse_data=parse_data)  # type: ignore[arg-type]  # Rasa's NLUPredictionData types no key
    tracker.update(message)
    await store.save(tracker)
    assert tracker.latest_message is not None
    assert tracker.latest_message.text == "rappelez-moi au 06 12 34 56 78", "the live turn keeps the number"
    stored = " ".join(row[0] for row in sqlite3.connect(database).execute("SELECT data FROM events"))
    assert "12 34 56 78" not in stored and "0612345678" not in stored
    assert "masqu" in stored
    reloaded = await store.retrieve("user-1")
    assert reloaded is not None and reloaded.latest_message is not None
    assert PHONE_MASK in (reloaded.latest_message.text or "")


async def test_every_event_field_is_stored_redacted_and_positions_dropped(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker("user-2", slots=[])
    tracker.update(ActionExecuted("action_listen"))
    text = "né le 12/03/1985, NIR 1 85 05 78 006 084 91, iban FR76 3000 6000 0112 3456 7890 189"
    tracker.update(UserUttered(
        text, {"name": "nlu_fallback", "confidence": 1.0},
        entities=[{"entity": "commune", "value": "jean@exemple.fr", "start": 0, "end": 3}],
        parse_data={"text": text, "intent": {"name": "nlu_fallback"}},  # type: ignore[arg-type]  # Rasa's NLUPredictionData types no key
        metadata={"location": {"latitude": 50.61847, "longitude": 3.13771}, "free": "mail jean@exemple.fr"},
    ))
    tracker.update(SlotSet("commune", "appelez le 06 12 34 56 78"))
    tracker.update(BotUttered("Votre adresse jean@exemple.fr ?", data={"custom": {"origin": {"latitude": 50.61847}}}))
    await store.save(tracker)
    rows = [row[0] for row in sqlite3.connect(database).execute("SELECT data FROM events")]
    stored = " ".join(json.dumps(json.loads(row), ensure_ascii=False) for row in rows)
    for personal in ("12/03/1985", "006 084", "FR76", "3000 6000", "jean@exemple.fr", "12 34 56 78", "50.61847",
                     "3.13771"):
        assert personal not in stored, personal
    assert stored.count("[IBAN masqué]") == 2 and "[date masquée]" in stored


async def test_only_events_not_stored_yet_are_redacted_each_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker("user-3", slots=[])
    redacted_events: list[str] = []
    real = tracker_store.redact_data

    def recording_redact(data: Any) -> Any:
        redacted_events.append(data["event"])
        return real(data)

    monkeypatch.setattr(tracker_store, "redact_data", recording_redact)
    for turn in range(20):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"message {turn}", {"name": "greet", "confidence": 1.0}))
        redacted_events.clear()
        await store.save(tracker)
        assert redacted_events == ["action", "user"], f"turn {turn}: the whole history was redacted again"
    reloaded = await store.retrieve("user-3")
    assert reloaded is not None and len(reloaded.events) == 40
