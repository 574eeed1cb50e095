"""Every copy of what people write is redacted too: handoff transcripts, error reports, usage figures, SMS contacts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.channels.sms.store import NO_NUMBER, SmsStore, sms_contacts
from bot.db import get_engine
from bot.handoff.transcript import transcript_from_events
from bot.knowledge.feedback import reports_table
from bot.privacy import redact_personal_data
from bot.secretariat.reports import record_report
from bot.secretariat.tokens import Secretariat
from bot.secretariat.usage import mask_personal_data

NOW = datetime(2026, 12, 2, 9, 0, 0)
PERSONAL = "née le 12/03/1985, NIR 1 85 05 78 006 084 91, tél 06 12 34 56 78, iban FR7630006000011234567890189"


def test_handoff_transcript_is_redacted_before_it_is_copied() -> None:
    """The action server gets the live turn unredacted: the transcript must mask it itself."""
    events = [
        {"event": "user", "text": PERSONAL, "timestamp": 1.0},
        {"event": "bot", "text": "Je note 06 12 34 56 78 ?", "timestamp": 2.0,
         "data": {"buttons": [{"title": "Oui, c'est jean@exemple.fr", "payload": "/affirm"}]}},
    ]
    transcript = transcript_from_events(events)
    text = repr(transcript)
    for personal in ("1985", "084 91", "12 34 56 78", "FR76", "jean@exemple.fr"):
        assert personal not in text, personal
    assert transcript[0]["text"] == redact_personal_data(PERSONAL)
    assert transcript[1]["choices"] == ["Oui, c'est [e-mail masqué]"]


def test_error_report_is_stored_without_personal_data(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    who = Secretariat(token_id=None, commune="59350", name="Mairie de Lille", is_admin=False)  # type: ignore[arg-type]
    report = record_report(engine, who, "passport", f"Mme X {PERSONAL} : le tarif a changé")
    with engine.connect() as conn:
        stored = conn.execute(select(reports_table.c.message)).scalar_one()
    assert stored == report.message == f"Mme X {redact_personal_data(PERSONAL)} : le tarif a changé"


def test_usage_figures_mask_with_the_one_redaction() -> None:
    assert mask_personal_data(f"  {PERSONAL}\n ok ") == " ".join(redact_personal_data(PERSONAL).split()) + " ok"


def test_stop_drops_the_clear_number_and_a_later_message_does_not_store_it_again(tmp_path: Path) -> None:
    store = SmsStore(get_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    store.upsert_contact("sms-a", "+33639980001", "android", NOW)
    store.set_subscribed("sms-a", False, NOW)
    contact = store.get_contact("sms-a")
    assert contact is not None and contact.phone == NO_NUMBER

    # They write again without START: not answered, and the number is not written back.
    held = store.upsert_contact("sms-a", "+33639980001", "android", NOW + timedelta(days=1))
    assert held.phone == "+33639980001" and not held.subscribed  # in memory, for this message only
    with store.engine.connect() as conn:
        assert conn.execute(select(sms_contacts.c.phone)).scalar_one() == NO_NUMBER

    # START within a few minutes: the number is needed again to answer, and stored again.
    store.set_subscribed("sms-a", True, NOW + timedelta(days=1, minutes=1))
    contact = store.get_contact("sms-a")
    assert contact is not None and contact.phone == "+33639980001"
