"""The callback form's decisions, without Rasa: cancel, code, number; stored said explicitly; what the person reads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.db import get_engine
from bot.handoff import callback_form
from bot.handoff.callback_form import (
    ASK_AGAIN,
    GIVE_UP,
    STORED,
    CallbackContext,
    answer_phone,
    call_back_the_sender,
    calls_back_the_sender,
    confirmation,
    consent_question,
    pending_phone,
    phone_question,
    reads_the_number,
)
from bot.handoff.callbacks import CallbackBook
from bot.handoff.phone_checks import PhoneChecks
from bot.replies import HUMAN_PAYLOAD, MENU_PAYLOAD, PHONE_HELP, PHONE_HELP_SMS

CONTEXT = CallbackContext("webchat", "Lille", "procedure_passport")
MOBILE = "06 12 34 56 78"


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'callbacks.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    return url


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Codes sent by SMS, caught before the gateway."""
    codes: list[tuple[str, str]] = []

    async def send(phone: str, code: str) -> bool:
        codes.append((phone, code))
        return True

    monkeypatch.setattr(callback_form, "send_code_sms", send)
    return codes


def pending_callbacks(database: str) -> list[tuple[str, str | None, str | None]]:
    return [(c.phone, c.commune, c.topic) for c in CallbackBook(get_engine(database)).pending()]


async def test_a_number_gets_a_code_and_is_stored_only_when_the_code_comes_back(database: str, sent: list) -> None:
    asked = await answer_phone("web-1", f"  {MOBILE} ", CONTEXT)
    assert (asked.outcome, asked.say, asked.stored) == (ASK_AGAIN, None, False)
    assert await pending_phone("web-1") == "•• •• •• •• 78" and pending_callbacks(database) == []
    [(phone, code)] = sent
    done = await answer_phone("web-1", code, CONTEXT)
    assert (done.outcome, done.stored, done.masked_phone) == (STORED, True, "•• •• •• •• 78")
    assert pending_callbacks(database) == [(phone, "Lille", "procedure_passport")]
    assert await pending_phone("web-1") is None


async def test_a_wrong_code_asks_again_then_the_number_is_forgotten(database: str, sent: list) -> None:
    await answer_phone("web-1", MOBILE, CONTEXT)
    wrong = "000000" if sent[0][1] != "000000" else "111111"
    steps = [await answer_phone("web-1", wrong, CONTEXT) for _ in range(3)]
    assert [s.outcome for s in steps] == [ASK_AGAIN] * 3 and not any(s.stored for s in steps)
    assert steps[0].say == callback_form.WRONG_CODE
    assert steps[-1].say == callback_form.WRONG_CODE + callback_form.NO_MORE_TRIES
    assert await pending_phone("web-1") is None and pending_callbacks(database) == []


@pytest.mark.parametrize("text", ["annuler", "Non merci", "laissez tomber"])
async def test_cancel_words_end_the_form_and_forget_the_pending_number(database: str, sent: list, text: str) -> None:
    await answer_phone("web-1", MOBILE, CONTEXT)
    step = await answer_phone("web-1", text, CONTEXT)
    assert (step.outcome, step.say) == (GIVE_UP, None)
    assert await pending_phone("web-1") is None


async def test_an_invalid_number_is_asked_again(database: str, sent: list) -> None:
    step = await answer_phone("web-1", "12 34", CONTEXT)
    assert (step.outcome, step.say) == (ASK_AGAIN, callback_form.INVALID_NUMBER) and sent == []


async def test_too_many_codes_end_the_form(database: str, sent: list) -> None:
    steps = [await answer_phone(f"web-{n}", MOBILE, CONTEXT) for n in range(4)]
    assert [s.outcome for s in steps] == [ASK_AGAIN] * 3 + [GIVE_UP]
    assert steps[-1].say == callback_form.TOO_MANY_CODES and len(sent) == 3


async def test_no_sms_gateway_ends_the_form_and_forgets_the_number(database: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    async def cannot_send(phone: str, code: str) -> bool:
        return False

    monkeypatch.setattr(callback_form, "send_code_sms", cannot_send)
    step = await answer_phone("web-1", MOBILE, CONTEXT)
    assert (step.outcome, step.say) == (GIVE_UP, callback_form.NO_CODE_SMS)
    assert await pending_phone("web-1") is None


async def test_a_broken_database_ends_the_form_kindly(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(PhoneChecks, "pending", broken)
    step = await answer_phone("web-1", MOBILE, CONTEXT)
    assert (step.outcome, step.say) == (GIVE_UP, callback_form.NOT_STORED)
    assert await pending_phone("web-1") is None  # the question then asks for the number, not a code


async def test_an_sms_user_is_called_back_on_the_number_they_write_from(database: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callback_form, "sms_sender_number", lambda sender_id: "+33698765432")
    step = await call_back_the_sender("sms-1", CallbackContext("sms", None, None))
    assert (step.outcome, step.masked_phone) == (STORED, "•• •• •• •• 32")
    assert pending_callbacks(database) == [("+33698765432", None, None)]
    monkeypatch.setattr(callback_form, "sms_sender_number", lambda sender_id: None)
    unknown = await call_back_the_sender("sms-2", CallbackContext("sms", None, None))
    assert (unknown.outcome, unknown.say) == (GIVE_UP, callback_form.NUMBER_NOT_FOUND)


def test_the_number_is_read_only_when_asked_after_consent() -> None:
    assert reads_the_number("callback_phone", True)
    assert not reads_the_number("callback_phone", None) and not reads_the_number("callback_consent", True)
    assert calls_back_the_sender(True, "sms") and not calls_back_the_sender(True, "webchat")
    assert not calls_back_the_sender(None, "sms")


def test_questions_offer_a_person() -> None:
    for reply in (consent_question("sms"), consent_question("webchat"), phone_question(None),
                  phone_question("•• •• •• •• 78")):
        assert reply.buttons[-1].payload == HUMAN_PAYLOAD
    assert "numéro qui nous écrit" in consent_question("sms").text
    assert "•• •• •• •• 78" in phone_question("•• •• •• •• 78").text


def test_confirmation_names_the_number_only_when_a_callback_was_stored() -> None:
    done = confirmation(True, True, "•• •• •• •• 78", "webchat")
    assert "vous appellera au •• •• •• •• 78" in done.text
    assert [b.payload for b in done.buttons] == [MENU_PAYLOAD, HUMAN_PAYLOAD]
    for consent, stored in ((True, None), (False, True), (None, None)):
        nothing = confirmation(consent, stored, "•• •• •• •• 78", "webchat")
        assert "aucun numéro" in nothing.text and PHONE_HELP in nothing.text
    sms = confirmation(True, None, None, "sms")
    assert PHONE_HELP_SMS in sms.text and [b.payload for b in sms.buttons] == [HUMAN_PAYLOAD]
