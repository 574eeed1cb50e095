"""Phone numbers and e-mail addresses never reach the conversation history on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

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
    message = UserUttered("rappelez-moi au 06 12 34 56 78", {"name": "request_callback", "confidence": 1.0},
                          parse_data={"text": "rappelez-moi au 06 12 34 56 78", "intent": {"name": "request_callback"}})
    tracker.update(message)
    await store.save(tracker)
    assert tracker.latest_message.text == "rappelez-moi au 06 12 34 56 78", "the live turn keeps the number"
    stored = " ".join(row[0] for row in sqlite3.connect(database).execute("SELECT data FROM events"))
    assert "12 34 56 78" not in stored and "0612345678" not in stored
    assert "masqu" in stored
    reloaded = await store.retrieve("user-1")
    assert reloaded is not None and PHONE_MASK in reloaded.latest_message.text
