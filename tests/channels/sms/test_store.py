"""SMS state in the project database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.channels.sms.store import INBOUND, OUTBOUND, SmsStore
from tests.channels.sms.fakes import make_store

NOW = datetime(2026, 3, 10, 9, 0, 0)


def test_contact_is_created_subscribed_then_updated(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    contact = store.upsert_contact("sms-a", "+33639980001", "android", NOW)
    assert contact.subscribed and contact.menu == {} and contact.pending_pages == ()
    again = store.upsert_contact("sms-a", "+33639980001", "twilio", NOW)
    assert again.gateway == "twilio"


def test_stop_is_remembered_and_forgets_menu_and_pages(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.upsert_contact("sms-a", "+33639980001", "android", NOW)
    store.save_reply_state("sms-a", {"1": "/x"}, ["page 2"], NOW)
    store.set_subscribed("sms-a", False, NOW)
    contact = store.get_contact("sms-a")
    assert contact is not None and not contact.subscribed
    assert contact.menu == {} and contact.pending_pages == ()


def test_pages_are_given_once_in_order(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.upsert_contact("sms-a", "+33639980001", "android", NOW)
    store.save_reply_state("sms-a", {"1": "/x"}, ["deux", "trois"], NOW)
    assert [store.pop_next_page("sms-a", NOW) for _ in range(3)] == ["deux", "trois", None]
    store.save_reply_state("sms-a", None, [], NOW)
    contact = store.get_contact("sms-a")
    assert contact is not None and contact.menu == {"1": "/x"}


def test_traffic_is_counted_per_number_and_per_hour(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    for minutes in (0, 10, 70):
        store.record_traffic("sms-a", OUTBOUND, 1, NOW + timedelta(minutes=minutes))
    store.record_traffic("sms-b", OUTBOUND, 2, NOW + timedelta(minutes=70))
    store.record_traffic("sms-a", INBOUND, 1, NOW + timedelta(minutes=70))
    since = NOW + timedelta(minutes=70) - timedelta(hours=1)
    assert store.count_traffic(OUTBOUND, since, "sms-a") == 2
    assert store.count_traffic(OUTBOUND, since) == 3
    assert store.count_traffic(INBOUND, since, "sms-a") == 1


def test_a_gateway_message_id_is_processed_once(tmp_path: Path) -> None:
    store: SmsStore = make_store(tmp_path)
    assert store.first_time_seen("android:abc", NOW)
    assert not store.first_time_seen("android:abc", NOW + timedelta(minutes=5))
    assert store.first_time_seen("android:abd", NOW)
