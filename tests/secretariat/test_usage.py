"""Usage figures from a small tracker store built here: channels, weeks, procedures, not understood, handoff."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.secretariat import usage
from bot.secretariat.usage import build_report, mask_personal_data, read_events
from tests.secretariat.trackers_helper import action, bot, user, write_tracker

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=timezone.utc).timestamp()  # ISO week 2026-W47
NEXT_WEEK = MONDAY + 7 * 86400
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture()
def tracker_url(tmp_path: Path) -> str:
    events = [
        # web, week 47: passport then asks a person, an agent answers 90 s later
        action("web-1", MONDAY, "action_session_start"),
        user("web-1", MONDAY + 1, "procedure_passport", "passeport pour mon fils", "webchat"),
        action("web-1", MONDAY + 2, "action_answer_procedure"),
        user("web-1", MONDAY + 10, "request_human", "je veux parler à quelqu'un", "webchat"),
        action("web-1", MONDAY + 11, "action_request_human"),
        bot("web-1", MONDAY + 100, "Bonjour, je suis Nadia", {"agent": "a1"}),
        # sms, week 47: not understood with a phone number and an e-mail
        user("sms-+33612345678", MONDAY + 50, "nlu_fallback", "rappelez moi au 06 12 34 56 78 ou jean.dupont@mail.fr",
             "sms"),
        user("sms-+33612345678", MONDAY + 60, "procedure_passport", "passeport", "sms"),
        # web, week 48: out of scope with a tax number; asks a person, nobody answers
        user("web-2", NEXT_WEEK, "out_of_scope", "mon numéro fiscal 1234567890123 est bloqué", "webchat"),
        user("web-2", NEXT_WEEK + 5, "request_human", "/request_human", "webchat"),
        user("web-2", NEXT_WEEK + 6, "procedure_identity_card", "carte d'identité", "webchat"),
        # rest, week 48, second session of web-1 after a session start
        action("web-1", NEXT_WEEK + 1000, "action_session_start"),
        user("web-1", NEXT_WEEK + 1001, "procedure_passport", "passeport", "rest"),
        # a session with no user message is not a conversation
        action("ghost", NEXT_WEEK, "action_session_start"),
    ]
    return write_tracker(tmp_path / "tracker.db", events)


def _report(url: str, **kwargs):
    return build_report(read_events(url, **kwargs), {"passport": "Passeport"}, now=NOW, **{
        k: v for k, v in kwargs.items() if k in ("since", "until")})


def test_conversations_are_counted_per_channel_and_week(tracker_url: str) -> None:
    report = _report(tracker_url)
    assert report.conversations == 4
    assert report.conversations_by_channel == {"webchat": 2, "sms": 1, "rest": 1}
    assert report.conversations_by_week == {"2026-W47": {"webchat": 1, "sms": 1},
                                            "2026-W48": {"webchat": 1, "rest": 1}}


def test_top_procedures_counts_procedure_intents(tracker_url: str) -> None:
    report = _report(tracker_url)
    assert report.top_procedures[0] == {"id": "passport", "title": "Passeport", "count": 3}
    assert {"id": "identity_card", "title": "identity_card", "count": 1} in report.top_procedures


def test_not_understood_questions_have_personal_data_masked(tracker_url: str) -> None:
    texts = [item["text"] for item in _report(tracker_url).not_understood]
    assert "rappelez moi au [téléphone masqué] ou [e-mail masqué]" in texts
    assert "mon numéro fiscal [n° fiscal masqué] est bloqué" in texts
    dump = repr(_report(tracker_url).as_dict())
    for personal in ("06 12", "jean.dupont", "1234567890123", "+33612345678", "web-1", "sms-"):
        assert personal not in dump


def test_handoff_rate_and_waiting_time(tracker_url: str) -> None:
    handoff = _report(tracker_url).handoff
    assert handoff["requests"] == 2
    assert handoff["rate"] == 0.5
    assert handoff["answered_by_agent"] == 1 and handoff["not_answered_by_agent"] == 1
    assert handoff["wait_seconds_median"] == 90.0


def test_period_filter_keeps_only_that_week(tracker_url: str) -> None:
    report = _report(tracker_url, since=date(2026, 11, 23), until=date(2026, 11, 29))
    assert set(report.conversations_by_week) == {"2026-W48"}


@pytest.mark.parametrize(("raw", "masked"), [
    ("appelez le 03 20 12 34 56", "appelez le [téléphone masqué]"),
    ("+33 6 12 34 56 78 svp", "[téléphone masqué] svp"),
    ("écrire à a.b@c.fr", "écrire à [e-mail masqué]"),
    ("sécu 1 85 05 78 006 084 91", "sécu [n° de sécurité sociale masqué]"),
    ("code postal 59000 Lille", "code postal 59000 Lille"),
])
def test_mask_personal_data(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_cli_prints_the_report_and_fails_clearly_without_tracker(tracker_url: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert usage.main(["--tracker-url", tracker_url]) == 0
    out = capsys.readouterr().out
    assert "Conversations : 4" in out and "Passeport" in out and "[téléphone masqué]" in out
    assert usage.main(["--tracker-url", f"sqlite:///{tmp_path / 'missing.db'}"]) == 1
    assert "no database at" in capsys.readouterr().err
