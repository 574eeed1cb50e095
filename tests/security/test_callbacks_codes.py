"""The code that proves a callback number is the caller's own: single use, few tries, short-lived, not stored."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.handoff.config import HandoffConfig
from bot.handoff.console import HandoffDesk
from bot.handoff.phone_checks import CodeLimitError, PhoneChecks, verification_text
from bot.handoff.rasa_api import RasaClient
from bot.handoff.store import HandoffQueue, utcnow
from tests.handoff.helpers import sqlite_engine

PHONE = "+33612345678"


@pytest.fixture
def checks(tmp_path, monkeypatch) -> PhoneChecks:
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    return PhoneChecks(sqlite_engine(tmp_path, "checks.db"))


def test_the_right_code_confirms_once(checks):
    code = checks.start("web-1", PHONE)
    assert checks.confirm("web-2", code) is None  # another conversation cannot use it
    assert checks.confirm("web-1", code) == PHONE
    assert checks.confirm("web-1", code) is None and checks.pending("web-1") is None


def test_the_code_is_not_stored_in_clear_and_the_sms_says_to_ignore_it(checks, tmp_path):
    code = checks.start("web-1", PHONE)
    rows = sqlite3.connect(tmp_path / "checks.db").execute("SELECT * FROM handoff_phone_checks").fetchall()
    assert code not in str(rows) and "web-1" not in str(rows)
    assert code in verification_text(code) and "ignorez ce message" in verification_text(code)


def test_an_expired_check_cannot_be_confirmed(checks):
    started = utcnow() - timedelta(minutes=16)
    code = checks.start("web-1", PHONE, now=started)
    assert checks.pending("web-1") is None and checks.confirm("web-1", code) is None


def test_codes_per_conversation_are_limited(checks):
    for n in range(3):
        checks.start("web-1", f"+3361234567{n}")
    with pytest.raises(CodeLimitError):
        checks.start("web-1", "+33612345679")


async def test_the_watchdog_deletes_numbers_nobody_confirmed(checks):
    checks.start("web-2", "+33698765432")
    checks.start("web-1", PHONE, now=utcnow() - timedelta(minutes=20))
    desk = HandoffDesk(HandoffQueue(checks.engine), RasaClient(None, "http://127.0.0.1:9", "t", "t"),  # type: ignore[arg-type]
                       HandoffConfig())
    counts = await desk.watchdog_tick()
    assert counts["unconfirmed_numbers_deleted"] == 1
    phones = [row[0] for row in checks.engine.connect().exec_driver_sql("SELECT phone FROM handoff_phone_checks")]
    assert phones == ["+33698765432"]
