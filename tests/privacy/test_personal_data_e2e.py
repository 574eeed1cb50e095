"""A conversation full of personal data over REST, the web chat and SMS, then a scan of everything the stack keeps.

Every table of every SQLite file, every file under the stack's folder and the stack log are searched for the
values typed (in their usual spellings). The only exception: the SMS sender's clear number, kept in
`sms_contacts.phone` while the person is subscribed because replies must reach it (docs/privacy.md). After
STOP it is gone from the table; its bytes may stay in SQLite's free pages until the file is rewritten, so the
raw-file scan of the project database tolerates it there, and only there.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bot.channels.sms.pseudonym import pseudonymise
from bot.db import get_engine
from bot.handoff.callbacks import CallbackBook, callbacks_table
from bot.paths import PROJECT_ROOT
from bot.privacy.redaction import iban_is_valid, luhn_is_valid, nir_key_is_valid
from tests.conftest import Stack
from tests.e2e.rest import all_text, say
from tests.handoff.agent_client import AgentClient, create_agent
from tests.security.attacks import sms_replies, sms_send, socket_say
from tests.stack import wait_until

pytestmark = pytest.mark.stack

PASSWORD = "correct horse battery staple privacy"


def _nir() -> str:
    body = "2870759350123"
    return f"2 87 07 59 350 123 {97 - int(body) % 97:02d}"


def _iban() -> str:
    bban = "30004012340009876543"
    rearranged = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(rearranged) % 97:02d}{bban}"


def _card() -> str:
    prefix = "497012345678901"
    return prefix + next(d for d in "0123456789" if luhn_is_valid(prefix + d))


NIR, IBAN, CARD = _nir(), _iban(), _card()
TAX_NUMBER = "3012345678901"
CAF_NUMBER = "7654321"
TYPED_PHONE = "06 39 98 00 77"  # ARCEP's range for fiction: reaches nobody
SMS_PHONE = "+33639980088"
EMAIL = "claire.martin.e2e@example.org"
BIRTH_DATE, BIRTH_DATE_WORDS = "14/07/1987", "14 juillet 1987"
LATITUDE, LONGITUDE = 50.61847, 3.13771

# Each value in the spellings it could be stored in.
TYPED_FORMS: dict[str, list[str]] = {
    "NIR": [NIR, NIR.replace(" ", "")],
    "IBAN": [IBAN, IBAN[4:]],
    "card": [CARD, " ".join(CARD[i:i + 4] for i in range(0, 16, 4))],
    "tax number": [TAX_NUMBER],
    "CAF number": [CAF_NUMBER],
    "phone": [TYPED_PHONE, "0639980077", "+33639980077", "33639980077", "639980077", "06.39.98.00.77"],
    "e-mail": [EMAIL, "claire.martin.e2e"],
    "birth date": [BIRTH_DATE, "juillet 1987", "1987-07-14"],
    "position": [str(LATITUDE), str(LONGITUDE)],
}
SMS_FORMS = [SMS_PHONE, SMS_PHONE.removeprefix("+"), "0639980088", "639980088"]


def test_the_values_are_real_personal_data_shapes() -> None:
    assert nir_key_is_valid(NIR) and iban_is_valid(IBAN) and luhn_is_valid(CARD)


def _sqlite_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and path.read_bytes()[:16] == b"SQLite format 3\x00"]


def _table_findings(folder: Path, forms: dict[str, list[str]]) -> list[str]:
    """'file table: what' for every cell of every table that holds one of the forms."""
    findings = []
    for path in _sqlite_files(folder):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in connection.execute(f'SELECT * FROM "{table}"'):  # table names come from sqlite_master
                    cells = " ".join(str(cell) for cell in row)
                    findings += [f"{path.name} {table}: {what}" for what, values in forms.items()
                                 if any(value in cells for value in values)]
        finally:
            connection.close()
    return sorted(set(findings))


def _file_findings(folder: Path, forms: dict[str, list[str]]) -> list[str]:
    """'file: what' for every file (databases, WAL, logs, secrets...) whose bytes hold one of the forms."""
    findings = []
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            findings += [f"{path.name}: {what}" for what, values in forms.items()
                         if any(value.encode() in content for value in values)]
    return sorted(set(findings))


@pytest.fixture(scope="module")
def agent(stack: Stack) -> Iterator[AgentClient]:
    create_agent(stack.env, "agent.privacy", PASSWORD)
    client = AgentClient(stack.web_url, "agent.privacy", PASSWORD)
    client.set_available(True)
    yield client
    client.set_available(False)  # other tests must not find a person waiting for them


def test_personal_data_typed_on_every_channel_is_nowhere_in_what_the_stack_keeps(
    stack: Stack, agent: AgentClient
) -> None:
    marker = f"girafe{uuid.uuid4().hex[:6]}"
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    # REST: everything typed, then a person is asked for, so the transcript is copied into the handoff queue.
    # Two unsure messages in a row already hand over to a person, so the queue may be reached before the request.
    replies = [all_text(say(stack.rest_url, sender, text)) for text in (
        f"Bonjour, je suis née le {BIRTH_DATE}, mon numéro de sécurité sociale est {NIR}",
        f"mon IBAN est {IBAN} et ma carte bancaire {CARD}, mon numéro fiscal {TAX_NUMBER}",
        f"écrivez-moi à {EMAIL} ou appelez le {TYPED_PHONE}, allocataire CAF {CAF_NUMBER}",
        f"je suis à {LATITUDE}, {LONGITUDE} et c'est pour mon {marker}",
        "je voudrais parler à un conseiller",
    )]
    assert any("file d'attente" in reply for reply in replies), replies
    request_id = agent.find_waiting(marker)
    assert agent.post(f"/agents/api/requests/{request_id}/take").status_code == 200
    shown = repr(agent.transcript(request_id))
    assert "[n° de sécurité sociale masqué]" in shown and "[IBAN masqué]" in shown and "[e-mail masqué]" in shown
    assert agent.post(f"/agents/api/requests/{request_id}/messages", {"text": "Bonjour, je regarde."}).ok
    assert agent.post(f"/agents/api/requests/{request_id}/close").status_code == 200

    # Web chat: the widget's "use my position" button, then a message with a birth date in words.
    asyncio.run(socket_say(stack, "/find_help_nearby",
                           {"button": True, "location": {"latitude": LATITUDE, "longitude": LONGITUDE}}))
    asyncio.run(socket_say(stack, f"je suis né le {BIRTH_DATE_WORDS}, n° {NIR.replace(' ', '')}"))

    # SMS: personal data in the text, then STOP (the clear number is dropped).
    assert sms_send(stack, SMS_PHONE, f"né le {BIRTH_DATE_WORDS}, fiscal {TAX_NUMBER}, mail {EMAIL}").status_code == 200
    wait_until(lambda: sms_replies(stack, SMS_PHONE))
    answered = len(sms_replies(stack, SMS_PHONE))
    assert sms_send(stack, SMS_PHONE, "STOP").status_code == 200
    wait_until(lambda: len(sms_replies(stack, SMS_PHONE)) > answered)  # the STOP confirmation
    pseudonym = pseudonymise(SMS_PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"])
    events = requests.get(f"{stack.rasa_url}/conversations/{pseudonym}/tracker", headers=stack.api_headers,
                          timeout=30).json()["events"]
    assert any("[n° fiscal masqué]" in (e.get("text") or "") for e in events), "the SMS reached the tracker store"

    workdir = stack.tracker_db.parent
    everything = {**TYPED_FORMS, "SMS number": SMS_FORMS}
    assert _table_findings(workdir, everything) == []
    raw = _file_findings(workdir, everything)
    tolerated = {f"{name}: SMS number" for name in ("numecrivain.db", "numecrivain.db-wal")}
    assert [finding for finding in raw if finding not in tolerated] == []
    assert (workdir / "stack.log").stat().st_size > 0


def test_running_portal_purges_a_callback_past_its_period_on_its_own(stack: Stack) -> None:
    engine = get_engine(stack.database_url)
    old = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=8)
    callback = CallbackBook(engine).add("06 12 34 56 70", "rest", None, None, now=old)
    fresh = CallbackBook(engine).add("06 12 34 56 71", "rest", None, None)

    def ids() -> set[int]:
        with engine.connect() as conn:
            return {row.id for row in conn.execute(select(callbacks_table.c.id))}

    wait_until(lambda: callback.id not in ids(), timeout=30)  # the test stack purges every 3 s
    assert fresh.id in ids()
    CallbackBook(engine).done(fresh.id)


def test_erase_command_removes_an_sms_user_from_the_running_stack(stack: Stack) -> None:
    phone = "+33639980089"
    assert sms_send(stack, phone, "bonjour").status_code == 200
    wait_until(lambda: sms_replies(stack, phone))
    pseudonym = pseudonymise(phone, stack.env["NUMECRIVAIN_SMS_PEPPER"])

    def stored_rows() -> int:
        with sqlite3.connect(stack.tracker_db) as tracker:
            events = tracker.execute("SELECT count(*) FROM events WHERE sender_id = ?", (pseudonym,)).fetchone()[0]
        with sqlite3.connect(stack.database_url.removeprefix("sqlite:///")) as project:
            contacts = project.execute("SELECT count(*) FROM sms_contacts WHERE pseudonym = ?", (pseudonym,))
            return int(events) + int(contacts.fetchone()[0])

    assert stored_rows() > 1
    erase = subprocess.run([sys.executable, "-m", "bot.privacy", "erase", "--phone", "06 39 98 00 89", "--yes"],
                           cwd=PROJECT_ROOT, env=stack.env, capture_output=True, text=True, timeout=120, check=False)
    assert erase.returncode == 0, erase.stderr[-2000:]
    assert json.loads(erase.stdout)["erased"]["sms_contacts"] == 1
    assert stored_rows() == 0
