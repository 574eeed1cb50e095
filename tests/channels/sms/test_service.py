"""Conversation rules of the SMS channel, with a scripted bot and a recording gateway."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.render import HUMAN_LINE, MORE_NOTICE
from bot.channels.sms.service import LIMIT_NOTICE, RelayResult, SmsService
from bot.gsm7 import segment_count, to_gsm7
from tests.channels.sms.fakes import (
    PEPPER,
    PHONE,
    Clock,
    RecordingSender,
    ScriptedBot,
    make_config,
    make_store,
)

KEY = pseudonymise(PHONE, PEPPER)



async def say(service: SmsService, clock: Clock, text: str, phone: str = PHONE) -> None:
    clock.advance(seconds=5)
    await service.receive(InboundSms(clock(), text, phone, "android"))


async def test_question_reaches_the_bot_under_the_pseudonym_and_reply_is_sent(
        service: SmsService, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "jai perdu ma cni")
    assert bot.received[0].sender_id == KEY
    assert bot.received[0].input_channel == "sms"
    assert PHONE not in str(bot.received[0].metadata)
    assert sender.sent == [(PHONE, "Réponse à : jai perdu ma cni\n" + HUMAN_LINE)]


async def test_number_in_another_format_is_the_same_conversation(
        service: SmsService, bot: ScriptedBot, clock: Clock) -> None:
    await say(service, clock, "bonjour", "06 39 98 00 01")
    await say(service, clock, "encore", PHONE)
    assert {m.sender_id for m in bot.received} == {KEY}


async def test_numbered_menu_round_trip(service: SmsService, bot: ScriptedBot, sender: RecordingSender,
                                        clock: Clock) -> None:
    await say(service, clock, "AIDE")
    assert bot.texts == ["/help_menu"]
    assert sender.texts[-1].endswith("1 Carte d'identité\n2 Passeport\n0 Parler à une personne")
    await say(service, clock, "2")
    assert bot.texts[-1] == "/procedure_passport"


async def test_zero_starts_a_handoff_at_any_time(service: SmsService, bot: ScriptedBot, clock: Clock) -> None:
    await say(service, clock, "0")
    assert bot.texts == ["/request_human"]


async def test_number_outside_the_menu_goes_to_the_bot_as_text(service: SmsService, bot: ScriptedBot,
                                                               clock: Clock) -> None:
    await say(service, clock, "MENU")
    await say(service, clock, "7")
    assert bot.texts == ["/help_menu", "7"]


async def test_plus_sends_the_next_page_then_says_there_is_no_more(
        service: SmsService, sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "long")
    assert MORE_NOTICE in sender.texts[0] and segment_count(sender.texts[0]) <= 2
    pages = 1
    while MORE_NOTICE in sender.texts[-1]:
        await say(service, clock, "PLUS")
        pages += 1
        assert segment_count(sender.texts[-1]) <= 2
        assert pages < 10
    await say(service, clock, "plus")
    assert sender.texts[-1].startswith(to_gsm7("Il n'y a pas de suite"))


async def test_stop_is_honoured_at_once_with_one_confirmation(
        service: SmsService, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "bonjour")
    await say(service, clock, "ARRÊT")
    assert "START" in sender.texts[-1]
    count = len(sender.sent)
    for text in ("STOP", "bonjour", "0", "AIDE", "PLUS"):
        await say(service, clock, text)
    assert len(sender.sent) == count
    assert bot.texts == ["bonjour"]
    assert await service.relay_agent_message(KEY, "Bonjour", "Camille") is RelayResult.UNSUBSCRIBED


async def test_start_resubscribes_and_sends_the_menu(service: SmsService, bot: ScriptedBot,
                                                     sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "STOP")
    await say(service, clock, "start")
    assert bot.texts == ["/help_menu"]
    assert sender.texts[-1].startswith("C'est noté, vous pouvez de nouveau")
    assert "0 Parler à une personne" in sender.texts[-1]
    await say(service, clock, "1")
    assert bot.texts[-1] == "/procedure_identity_card"


async def test_rate_limit_sends_one_notice_then_nothing_until_the_hour_passes(
        tmp_path: Path, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    service = SmsService(make_config(max_replies_per_hour=5), make_store(tmp_path), {"android": sender}, bot, clock)
    for i in range(30):  # an autoresponder loop
        await say(service, clock, f"message {i}")
    assert len(sender.sent) == 6
    assert sender.texts[5] == to_gsm7(LIMIT_NOTICE)
    clock.advance(hours=1)
    await say(service, clock, "bonjour")
    assert sender.texts[-1].startswith("Réponse à : bonjour")


async def test_flood_of_incoming_messages_is_not_even_read(
        tmp_path: Path, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    config = make_config(max_inbound_per_hour=10, max_replies_per_hour=1000)
    service = SmsService(config, make_store(tmp_path), {"android": sender}, bot, clock)
    for i in range(25):
        clock.advance(seconds=1)
        await service.receive(InboundSms(clock(), f"m{i}", PHONE, "android"))
    assert len(bot.received) == 10


async def test_global_budget_stops_all_sending(tmp_path: Path, bot: ScriptedBot, sender: RecordingSender,
                                               clock: Clock) -> None:
    config = make_config(max_replies_per_hour_total=3)
    service = SmsService(config, make_store(tmp_path), {"android": sender}, bot, clock)
    for i in range(6):
        await say(service, clock, "bonjour", f"+336399800{i:02d}")
    assert len(sender.sent) == 3


async def test_silent_bot_sends_nothing(tmp_path: Path, sender: RecordingSender, clock: Clock) -> None:
    service = SmsService(make_config(), make_store(tmp_path), {"android": sender}, ScriptedBot(silent=True), clock)
    await say(service, clock, "bonjour")
    assert sender.sent == []


async def test_agent_message_is_relayed_with_first_name_in_gsm7(
        service: SmsService, sender: RecordingSender, clock: Clock) -> None:
    await say(service, clock, "0")
    result = await service.relay_agent_message(KEY, "Bonjour, votre dossier est prêt à la mairie.", "Camille",
                                               "conseillère")
    assert result is RelayResult.DELIVERED
    assert sender.sent[-1] == (PHONE, "Camille (conseillère) : Bonjour, votre dossier est pret à la mairie.")


async def test_agent_message_to_unknown_sender_is_refused(service: SmsService) -> None:
    assert await service.relay_agent_message("sms-" + "0" * 32, "Bonjour", "Camille") is RelayResult.UNKNOWN_SENDER


async def test_agent_message_is_not_limited_by_the_per_number_rate(
        tmp_path: Path, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> None:
    service = SmsService(make_config(max_replies_per_hour=1), make_store(tmp_path), {"android": sender}, bot, clock)
    await say(service, clock, "bonjour")
    for _ in range(3):
        assert await service.relay_agent_message(KEY, "Je regarde.", "Camille") is RelayResult.DELIVERED


async def test_gateway_failure_is_logged_without_the_number(
        tmp_path: Path, bot: ScriptedBot, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    failing = RecordingSender(failing=True)
    service = SmsService(make_config(), make_store(tmp_path), {"android": failing}, bot, clock)
    with caplog.at_level(logging.DEBUG):
        await say(service, clock, "bonjour")
        await say(service, clock, "STOP")
        assert await service.relay_agent_message(KEY, "x", "Camille") is RelayResult.UNSUBSCRIBED
    assert "not sent" in caplog.text
    assert KEY in caplog.text
    for form in (PHONE, "639980001", "06 39 98 00 01"):
        assert form not in caplog.text

