"""The satisfaction question after an agent ends a conversation: kept once, linked to the request, optional; asked
and answered through the real web chat channel (socket.io) and the real SMS channel; per agent for admins only."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy import inspect, select

from bot.channels.sms.channel import SmsInput
from bot.channels.sms.pseudonym import pseudonymise
from bot.db import get_engine
from bot.gsm7 import is_gsm7, segment_count
from bot.handoff.accounts import AgentDirectory
from bot.handoff.rasa_api import RasaClient
from bot.handoff.store import CLOSED_BY_AGENT, WAIT_TIMEOUT, HandoffQueue, HandoffRequest
from bot.handoff.survey import (
    ALREADY_ANSWERED,
    NO,
    PARTLY,
    QUESTION,
    SMS_QUESTION,
    THANKS,
    TOO_LATE,
    YES,
    SurveyBook,
    answer_in_payload,
    answer_in_sms,
    ask_after_close,
    surveys_table,
)
from tests.channels.sms.fakes import (
    PHONE,
    RecordingSender,
    ScriptedBot,
    make_config,
    make_store,
    serving_sms_channel,
)
from tests.conftest import free_port
from tests.handoff.helpers import fake_rasa, login, portal_settings, running_portal, sqlite_engine
from tests.security.webchat_server import INTERNAL_TOKEN as WEBCHAT_TOKEN
from tests.security.webchat_server import sender_of, serving_webchat
from tests.web.socketio_client import SocketIOClient

CLOSED_AT = datetime(2024, 3, 11, 9, 0)  # naive UTC, as stored
PASSWORD = "un mot de passe assez long"


def closed_conversation(queue: HandoffQueue, sender_id: str, channel: str, agent: str = "alice") -> HandoffRequest:
    request = queue.enqueue(sender_id, channel, [], now=CLOSED_AT - timedelta(minutes=20))
    queue.take(request.id, agent, now=CLOSED_AT - timedelta(minutes=15))
    return queue.close(request.id, CLOSED_BY_AGENT, agent_name=agent, now=CLOSED_AT)


def answers(engine: Any) -> list[tuple[int, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(surveys_table.c.request_id, surveys_table.c.answer)).all()
    return [(row.request_id, row.answer) for row in rows]


def test_answer_is_kept_once_and_linked_to_the_request_not_the_person(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    queue, book = HandoffQueue(engine), SurveyBook(engine)
    request = closed_conversation(queue, "web-a", "webchat")
    assert book.mark_asked(request, now=CLOSED_AT) and not book.mark_asked(request, now=CLOSED_AT)
    assert book.answer("web-a", PARTLY, now=CLOSED_AT + timedelta(minutes=1)) == THANKS
    assert book.answer("web-a", NO, now=CLOSED_AT + timedelta(minutes=2)) == ALREADY_ANSWERED
    assert answers(engine) == [(request.id, PARTLY)]
    columns = {column["name"] for column in inspect(engine).get_columns("handoff_surveys")}
    assert columns == {"id", "request_id", "channel", "asked_at", "answer", "answered_at", "dismissed_at"}


def test_answer_after_a_day_is_thanked_but_not_kept_and_nobody_else_can_answer(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    queue, book = HandoffQueue(engine), SurveyBook(engine)
    book.mark_asked(closed_conversation(queue, "web-a", "webchat"), now=CLOSED_AT)
    assert book.answer("web-b", YES, now=CLOSED_AT) == TOO_LATE  # another conversation was never asked
    assert book.answer("web-a", YES, now=CLOSED_AT + timedelta(hours=25)) == TOO_LATE
    assert answers(engine)[0][1] is None


def test_sms_question_closes_when_the_person_writes_something_else(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    queue, book = HandoffQueue(engine), SurveyBook(engine)
    book.mark_asked(closed_conversation(queue, "sms-a", "sms"), now=CLOSED_AT)
    assert book.answer_sms("sms-a", "passeport", now=CLOSED_AT + timedelta(minutes=1)) is None
    assert book.answer_sms("sms-a", "1", now=CLOSED_AT + timedelta(minutes=2)) is None  # now a menu choice
    book.mark_asked(closed_conversation(queue, "sms-b", "sms"), now=CLOSED_AT)
    assert book.answer_sms("sms-b", "1", now=CLOSED_AT + timedelta(hours=3)) is None  # too late: not an answer
    assert [answer for _, answer in answers(engine)] == [None, None]


def test_survey_answers_are_read_from_buttons_and_plain_sms_words_only() -> None:
    assert [answer_in_payload(p) for p in ("/handoff_survey_1", "/handoff_survey_3", "/handoff_survey_4",
                                           "/handoff_survey_1 x", "/request_human")] == [YES, NO, None, None, None]
    assert [answer_in_sms(t) for t in ("1", " Oui ! ", "EN  PARTIE", "non.", "12", "oui merci", "x" * 500)] \
        == [YES, YES, PARTLY, NO, None, None, None]
    by_sms = f"Numécrivain (robot) : {SMS_QUESTION}"  # as the SMS channel sends the robot's words
    assert is_gsm7(by_sms) and segment_count(by_sms) == 1 and "Répondez 1" in by_sms


async def test_expired_requests_and_pull_only_channels_are_not_asked(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    queue, book = HandoffQueue(engine), SurveyBook(engine)
    expired = queue.enqueue("web-x", "webchat", [], now=CLOSED_AT)
    expired = queue.close(expired.id, WAIT_TIMEOUT, now=CLOSED_AT)
    rest = closed_conversation(queue, "rest-y", "rest")
    async with fake_rasa() as rasa, aiohttp.ClientSession() as session:
        client = RasaClient(session, rasa.url, "rasa-test-token-long-enough-for-hs256", "internal-test-token")
        assert not await ask_after_close(client, book, expired)
        assert not await ask_after_close(client, book, rest)
        rasa.down = True
        down = closed_conversation(queue, "web-z", "webchat")
        assert not await ask_after_close(client, book, down)  # not delivered: not counted as asked
    assert rasa.relayed == [] and answers(engine) == []


async def test_web_chat_survey_has_three_buttons_and_a_click_is_recorded_once(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def echo_bot(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"Reçu : {message.text}")

    async with serving_webchat(echo_bot, monkeypatch, tmp_path) as chat, SocketIOClient(chat.url) as client:
        token = await client.start_session(None)
        sender = sender_of(token)
        engine = get_engine()  # the channel's database (NUMECRIVAIN_DB_URL set by serving_webchat)
        request = closed_conversation(HandoffQueue(engine), sender, "webchat")
        async with aiohttp.ClientSession() as session:
            rasa = RasaClient(session, chat.url, "unused-rasa-token-long-enough-hs256", WEBCHAT_TOKEN)
            assert await ask_after_close(rasa, SurveyBook(engine), request)
        (question,) = await client.wait_for("bot_uttered")
        assert question["text"] == QUESTION
        assert [(b["title"], b["payload"]) for b in question["quick_replies"]] == [
            ("Oui", "/handoff_survey_1"), ("En partie", "/handoff_survey_2"), ("Non", "/handoff_survey_3")]

        await client.emit("user_uttered", {"message": "/handoff_survey_1", "metadata": {"button": True}})
        thanks = (await client.wait_for("bot_uttered", count=2))[1]
        await client.emit("user_uttered", {"message": "/handoff_survey_3", "metadata": {"button": True}})
        again = (await client.wait_for("bot_uttered", count=3))[2]
        assert (thanks["text"], again["text"]) == (THANKS, ALREADY_ANSWERED)
        assert chat.received == []  # the answers never reached the bot (no intent, no NLU)
        await client.emit("user_uttered", {"message": "et pour un passeport ?"})  # typed text goes on as usual
        reply = (await client.wait_for("bot_uttered", count=4))[3]
        assert reply["text"] == "Reçu : et pour un passeport ?"
    assert [m.text for m in chat.received] == ["et pour un passeport ?"]
    assert answers(engine) == [(request.id, YES)]


async def test_sms_survey_is_asked_by_the_relay_and_answered_with_a_digit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    bot, sender, store = ScriptedBot(), RecordingSender(), make_store(tmp_path)
    channel = SmsInput(make_config(), store=store, senders={"android": sender}, internal_token=WEBCHAT_TOKEN)
    pseudonym = pseudonymise(PHONE, make_config().pepper)
    async with serving_sms_channel(channel, bot) as served:
        await served.resident_writes("bonjour")  # the person is known to the channel
        queue = HandoffQueue(store.engine)
        request = closed_conversation(queue, pseudonym, "sms")
        rasa = RasaClient(served.session, served.url, "unused-rasa-token-long-enough-hs256", WEBCHAT_TOKEN)
        assert await ask_after_close(rasa, SurveyBook(store.engine), request)
        assert sender.texts[-1] == f"Numécrivain (robot) : {SMS_QUESTION}"
        await served.resident_writes("3")
        assert sender.texts[-1] == THANKS
        await served.resident_writes("3")  # answered already: an ordinary message for the bot now
    assert bot.texts == ["bonjour", "3"]
    assert answers(store.engine) == [(request.id, NO)]


async def test_closing_asks_the_survey_and_per_agent_results_are_for_admins_only(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = get_engine(database_url)
    directory = AgentDirectory(engine)
    directory.create("alice", PASSWORD, role="admin", display_name="Alice")
    directory.create("bob", PASSWORD, display_name="Bob")
    queue = HandoffQueue(engine)
    request = queue.enqueue("web-survey", "webchat", [])
    async with fake_rasa() as rasa, running_portal(portal_settings(rasa.url, database_url, free_port())) as url:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bob:
            _, csrf = await login(bob, url, "bob", PASSWORD)
            headers = {"X-CSRF-Token": csrf}
            for action in ("take", "close"):
                async with bob.post(f"{url}/agents/api/requests/{request.public_id}/{action}",
                                    headers=headers) as resp:
                    assert resp.status == 200
            assert rasa.relayed[-1]["text"] == QUESTION
            assert [b["payload"] for b in rasa.relayed[-1]["buttons"]] == [
                "/handoff_survey_1", "/handoff_survey_2", "/handoff_survey_3"]
            SurveyBook(engine).answer("web-survey", YES)
            async with bob.get(f"{url}/agents/figures") as resp:
                page = await resp.text()
            assert resp.status == 200 and "Satisfaction par jour" in page
            assert "1 réponse sur 1 question posée : oui 1 (100 %)" in page
            assert "Satisfaction par agent" not in page and "agents.csv" not in page
            async with bob.get(f"{url}/agents/figures/agents.csv") as resp:
                assert resp.status == 403
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as alice:
            await login(alice, url, "alice", PASSWORD)
            async with alice.get(f"{url}/agents/figures") as resp:
                page = await resp.text()
            assert "Satisfaction par agent" in page
            assert '<tr><th scope="row">Bob</th><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td>' in page
            async with alice.get(f"{url}/agents/figures/agents.csv") as resp:
                assert resp.status == 200
                assert (await resp.text()).splitlines()[1] == "bob,Bob,1,1,1,0,0"
            async with alice.get(f"{url}/agents/figures.csv") as resp:
                assert (await resp.text()).splitlines()[1].endswith(",1,1,0,0")
