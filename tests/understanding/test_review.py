"""The review list (fallbacks and handoffs, masked) and the one-command, reviewed addition to the training data."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from bot.secretariat.usage import read_events
from bot.understanding import review
from bot.understanding.review import ReviewError, add_example, message_id, review_items
from tests.secretariat.trackers_helper import action, user, write_tracker

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=timezone.utc).timestamp()
UNCLEAR = "témoins pour les noces, c'est combien de personnes ?"


def unsure(sender: str, ts: float, text: str) -> dict:
    """A message the model was unsure of, with its ranking."""
    event = user(sender, ts, "nlu_fallback", text, "webchat")
    event["data"]["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35}, {"name": "procedure_planning_permission", "confidence": 0.3}]
    return event


@pytest.fixture()
def tracker_url(tmp_path: Path) -> str:
    events = [
        # not understood, then a proposal chosen
        unsure("web-1", MONDAY, UNCLEAR),
        action("web-1", MONDAY + 1, "action_handle_fallback"),
        user("web-1", MONDAY + 5, "procedure_marriage_pacs", "/procedure_marriage_pacs", "webchat"),
        # the same words elsewhere, with a phone number and an e-mail address
        unsure("sms-1", MONDAY + 50, UNCLEAR),
        unsure("sms-1", MONDAY + 60, "rappelez moi au 06 12 34 56 78 ou jean.dupont@mail.fr pour le truc"),
        # understood, but the person still asked for someone: the question is listed as a handoff
        user("web-2", MONDAY + 100, "procedure_rsa", "le rsa de mon fils a été coupé", "webchat"),
        action("web-2", MONDAY + 101, "action_answer_procedure"),
        user("web-2", MONDAY + 110, "request_human", "/request_human", "webchat"),
        action("web-2", MONDAY + 111, "action_request_human"),
        # understood and nothing else: not listed
        user("web-3", MONDAY + 200, "procedure_passport", "passeport", "webchat"),
        action("web-3", MONDAY + 201, "action_answer_procedure"),
    ]
    return write_tracker(tmp_path / "tracker.db", events)


def test_fallbacks_and_handoffs_are_listed_grouped_and_most_frequent_first(tracker_url: str) -> None:
    items = review_items(read_events(tracker_url))
    assert items[0].text == UNCLEAR
    first = items[0]
    assert first.count == 2 and first.reasons == ["fallback"]
    assert first.model_guess == "procedure_planning_permission"
    assert first.chosen == "procedure_marriage_pacs"  # a hint for the editor, never learnt by itself
    handoff = next(item for item in items if item.reasons == ["handoff"])
    assert handoff.text == "le rsa de mon fils a été coupé"
    assert all(item.text != "passeport" for item in items)
    assert all(not item.text.startswith("/") for item in items)


def test_listed_messages_are_masked(tracker_url: str) -> None:
    texts = " ".join(item.text for item in review_items(read_events(tracker_url)))
    assert "06 12 34 56 78" not in texts and "jean.dupont" not in texts
    assert "[téléphone masqué]" in texts and "[e-mail masqué]" in texts


def test_cli_lists_then_adds_one_reviewed_message(tracker_url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    reviewed = tmp_path / "nlu" / "reviewed.yml"
    monkeypatch.setattr(review, "REVIEWED_FILE", reviewed)
    monkeypatch.setattr(review, "TRAINING_DIR", tmp_path / "nlu")
    monkeypatch.setattr(review, "EVALUATION_FILES", ())
    assert review.main(["--tracker-url", tracker_url, "list"]) == 0
    listing = capsys.readouterr().out
    assert message_id(UNCLEAR) in listing and "[téléphone masqué]" in listing
    assert not reviewed.exists()  # listing adds nothing
    add = ["--tracker-url", tracker_url, "add", message_id(UNCLEAR), "--intent", "procedure_marriage_pacs"]
    assert review.main(add) == 0
    content = yaml.safe_load(reviewed.read_text(encoding="utf-8"))
    assert content["nlu"] == [{"intent": "procedure_marriage_pacs", "examples": f"- {UNCLEAR}\n"}]
    # the same message twice is refused, and the file is unchanged
    assert review.main(add) == 1
    assert "déjà" in capsys.readouterr().err
    assert yaml.safe_load(reviewed.read_text(encoding="utf-8")) == content


def test_reviewed_file_is_valid_rasa_training_data(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    reviewed = tmp_path / "reviewed.yml"
    checks = {"training_dir": tmp_path, "evaluation_files": ()}
    add_example("ma CNI: elle expire quand ?", "procedure_identity_card", reviewed, **checks)
    add_example("le # de mon dossier APA", "procedure_elderly_care", reviewed, **checks)
    add_example("carte d'identité de mon fils", "procedure_identity_card", reviewed, **checks)
    data = load_data(str(reviewed))
    assert sorted((m.get("text"), m.get("intent")) for m in data.intent_examples) == [
        ("carte d'identité de mon fils", "procedure_identity_card"),
        ("le # de mon dossier APA", "procedure_elderly_care"),
        ("ma CNI: elle expire quand ?", "procedure_identity_card"),
    ]


@pytest.mark.parametrize(("text", "intent", "why"), [
    ("", "procedure_passport", "vide"),
    ("x" * 400, "procedure_passport", "300"),
    ("appelez le 06 12 34 56 78", "procedure_passport", "personnelles"),
    ("[téléphone masqué] passeport", "procedure_passport", "personnelles"),
    ("passeport pour mon fils", "procedure_inconnue", "inconnue"),
    ("demande de passeport enfant", "procedure_passport", "proche"),
])
def test_unsafe_additions_are_refused(tmp_path: Path, text: str, intent: str, why: str) -> None:
    evaluation = tmp_path / "heldout.yml"
    evaluation.write_text("nlu:\n- intent: procedure_passport\n  examples: |\n    - demande de passeport enfant\n",
                          encoding="utf-8")
    reviewed = tmp_path / "reviewed.yml"
    with pytest.raises(ReviewError, match=why):
        add_example(text, intent, reviewed, training_dir=tmp_path / "data", evaluation_files=[evaluation])
    assert not reviewed.exists()


def test_unknown_id_is_a_clear_error(tracker_url: str, capsys) -> None:
    assert review.main(["--tracker-url", tracker_url, "add", "deadbeef", "--intent", "procedure_passport"]) == 1
    assert "Aucun message deadbeef" in capsys.readouterr().err


def test_missing_tracker_store_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert review.main(["--tracker-url", f"sqlite:///{tmp_path / 'none.db'}", "list"]) == 1
    assert "erreur" in capsys.readouterr().err
