"""SMS input: typed text is text, only the menu digits we offered become intents; long messages are not parsed."""

from __future__ import annotations

import pytest

from bot.channels.inputs import MAX_MESSAGE_CHARS
from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.render import HUMAN_LINE
from bot.channels.sms.service import SmsService
from bot.gsm7 import to_gsm7
from tests.channels.sms.fakes import (
    PHONE,
    Clock,
    RecordingSender,
    ScriptedBot,
)


async def say(service: SmsService, clock: Clock, text: str) -> None:
    clock.advance(seconds=5)
    await service.receive(InboundSms(clock(), text, PHONE, "android"))


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [("/restart", "restart"), ('/request_human{"commune": "Lille"}', 'request_human{"commune": "Lille"}'),
     ('/inform_location{"commune": "1' + " " * 440 + 'x"}', 'inform_location{"commune": "1 x"}'),  # spaces joined
     ("/procedure_passport", "procedure_passport")],
    ids=["restart", "request_human", "inform_location", "procedure"],
)
async def test_typed_slash_sms_reaches_the_bot_as_plain_text(service: SmsService, bot: ScriptedBot, clock: Clock,
                                                             typed: str, read_as: str) -> None:
    await say(service, clock, typed)
    assert bot.texts == [read_as]


async def test_menu_digit_we_offered_is_the_only_way_to_an_intent(service: SmsService, bot: ScriptedBot,
                                                                  clock: Clock) -> None:
    await say(service, clock, "AIDE")
    await say(service, clock, "2")
    await say(service, clock, "/procedure_identity_card")
    assert bot.texts == ["/help_menu", "/procedure_passport", "procedure_identity_card"]


async def test_too_long_sms_gets_the_kind_answer_without_reaching_the_bot(
        service: SmsService, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "1 " * (MAX_MESSAGE_CHARS // 2 + 1))
    assert bot.received == []
    (reply,) = sender.texts
    assert reply.startswith(to_gsm7("Votre message est trop long."))
    assert reply.endswith(HUMAN_LINE)


async def test_sms_at_the_limit_is_read(service: SmsService, bot: ScriptedBot, clock: Clock) -> None:
    await say(service, clock, "a" * MAX_MESSAGE_CHARS)
    assert bot.texts == ["a" * MAX_MESSAGE_CHARS]
