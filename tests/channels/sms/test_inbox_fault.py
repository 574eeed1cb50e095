"""A real fault: the process that accepted an SMS is SIGKILLed inside the coalescing window; the SMS is answered
once, by the next process, from the durable inbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bot.channels.sms.inbox import ANSWERED, RECEIVED, sms_inbox
from bot.channels.sms.pseudonym import pseudonymise
from bot.db import make_engine, upgrade
from bot.paths import PROJECT_ROOT
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.channels.sms.fakes import PEPPER, PHONE, SIGNING_KEY
from tests.stack import free_port, wait_until

FULL_SEGMENT = "Bonjour, " + "j" * 144  # 153 characters: a part of a longer SMS, held for the whole window
OTHER_PHONE = "+33639980002"


class WebhookProcess:
    """tests/channels/sms/inbox_process.py running in its own process."""

    def __init__(self, database_url: str, replies: Path, log: Path, coalesce_seconds: float,
                 lease_seconds: float) -> None:
        self.port = free_port()
        env = dict(os.environ, SMS_WEBHOOK_SIGNING_KEY=SIGNING_KEY, NUMECRIVAIN_SMS_PEPPER=PEPPER,
                   SMS_COALESCE_SECONDS=str(coalesce_seconds), SMS_INBOX_LEASE_SECONDS=str(lease_seconds),
                   SMS_GATEWAY_URL="", SMS_FAKE_GATEWAY="", TWILIO_ACCOUNT_SID="")
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.channels.sms.inbox_process", database_url, str(self.port), str(replies)],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ready, timeout=90, what="the webhook process")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/sms"

    def ready(self) -> bool:
        assert self.process.poll() is None, "the webhook process exited"
        try:
            return requests.get(f"{self.url}/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def post_sms(self, phone: str, text: str, event_id: str) -> requests.Response:
        body = android_webhook_body(phone, text, event_id=event_id)
        return requests.post(f"{self.url}/android", data=body, headers=android_webhook_headers(SIGNING_KEY, body),
                             timeout=30)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    upgrade(url)
    return url


@pytest.fixture
def processes() -> Iterator[list[WebhookProcess]]:
    started: list[WebhookProcess] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


def replies_to(path: Path, phone: str) -> list[str]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line["text"] for line in lines if line["to"] == phone]


def inbox_rows(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [(row.pseudonym, row.state) for row in conn.execute(
                select(sms_inbox.c.pseudonym, sms_inbox.c.state).order_by(sms_inbox.c.id))]
    finally:
        engine.dispose()


def test_an_sms_accepted_by_a_process_killed_in_the_coalescing_window_is_answered_once_after_recovery(
        tmp_path: Path, database_url: str, processes: list[WebhookProcess]) -> None:
    replies, log = tmp_path / "replies.jsonl", tmp_path / "processes.log"
    first = WebhookProcess(database_url, replies, log, coalesce_seconds=600, lease_seconds=30)
    processes.append(first)
    response = first.post_sms(PHONE, FULL_SEGMENT, "evt-killed")
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    # Stored and committed before the 200: the row is there, held in the window, not answered.
    assert inbox_rows(database_url) == [(pseudonymise(PHONE, PEPPER), RECEIVED)]
    first.stop(signal.SIGKILL)
    assert replies_to(replies, PHONE) == []  # the killed process never answered

    # The next process (a restarted or another Rasa process) sees the lease run out and takes the SMS over.
    second = WebhookProcess(database_url, replies, log, coalesce_seconds=0.5, lease_seconds=1)
    processes.append(second)
    wait_until(lambda: inbox_rows(database_url)[0][1] == ANSWERED, what="the recovered SMS to be answered")
    assert replies_to(replies, PHONE) == [f"Réponse à : {FULL_SEGMENT}\n0 Parler à une personne"]

    # Sentinel: the gateway retrying the killed process's webhook is refused, a later SMS from someone else is
    # answered after its whole 0.5 s window, so the second process has run its recovery pass (every 0.5 s) again
    # meanwhile: still one reply.
    assert second.post_sms(PHONE, FULL_SEGMENT, "evt-killed").json() == {"status": "duplicate"}
    assert second.post_sms(OTHER_PHONE, FULL_SEGMENT, "evt-sentinel").status_code == 200
    wait_until(lambda: replies_to(replies, OTHER_PHONE), what="the sentinel's reply")
    wait_until(lambda: [state for _, state in inbox_rows(database_url)] == [ANSWERED, ANSWERED],
               what="both SMS answered")
    assert replies_to(replies, PHONE) == [f"Réponse à : {FULL_SEGMENT}\n0 Parler à une personne"]
