"""Each message once and kind answers on failures (bot/resilience.py), against a real SQL tracker store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.resilience import (
    ACTION_UNAVAILABLE_TEXT,
    SERVICE_UNAVAILABLE_TEXT,
    client_message_id,
    replies_after,
    stored_user_message,
)
from bot.tracker_store import RedactingSQLTrackerStore


def conversation(tmp_path: Path) -> FailSafeTrackerStore:
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events("rest:moi", [
        ActionExecuted("action_listen"),
        UserUttered("jai perdu ma carte", message_id="m_1%"),
        BotUttered("Carte perdue : faites une nouvelle demande."),
        BotUttered("Sans Internet : votre mairie."),
        ActionExecuted("action_listen"),
        UserUttered("merci", message_id="m-2"),
        BotUttered("Avec plaisir."),
    ])
    asyncio.run(store.save(tracker))
    return FailSafeTrackerStore(store)


def test_a_stored_message_id_is_found_in_its_own_conversation_only(tmp_path: Path) -> None:
    store = conversation(tmp_path)
    assert stored_user_message(store, "rest:moi", "m_1%")
    assert stored_user_message(store, "rest:moi", "m-2")
    assert not stored_user_message(store, "rest:moi", "m-3")
    assert not stored_user_message(store, "rest:moi", "m_1")  # LIKE wildcards in an id are taken literally
    assert not stored_user_message(store, "rest:moi", "mx1%")
    assert not stored_user_message(store, "rest:autre", "m-2")


def test_a_resent_message_gets_the_replies_stored_after_it(tmp_path: Path) -> None:
    tracker = asyncio.run(conversation(tmp_path).retrieve("rest:moi"))
    assert tracker is not None
    replies = replies_after(list(tracker.events), "m_1%")
    assert [reply["text"] for reply in replies or []] == ["Carte perdue : faites une nouvelle demande.",
                                                           "Sans Internet : votre mairie."]
    assert [reply["text"] for reply in replies_after(list(tracker.events), "m-2") or []] == ["Avec plaisir."]
    assert replies_after(list(tracker.events), "m-3") is None


def test_only_short_string_ids_count_as_client_message_ids() -> None:
    assert client_message_id({"message_id": "abc"}) == "abc"
    for metadata in (None, {}, {"message_id": 12}, {"message_id": ""}, {"message_id": "x" * 129}, "message_id"):
        assert client_message_id(metadata) is None


def test_failure_answers_are_kind_and_give_the_phone_line() -> None:
    assert "39 39" in ACTION_UNAVAILABLE_TEXT and "Sans Internet" in ACTION_UNAVAILABLE_TEXT
    assert "n'est pas perdu" in SERVICE_UNAVAILABLE_TEXT and "39 39" in SERVICE_UNAVAILABLE_TEXT
