"""The SMS service on the durable inbox: what one process accepted and did not answer, another answers, once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.inbox import ANSWERED, SmsInbox
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.render import HUMAN_LINE
from bot.channels.sms.service import SmsService
from bot.channels.sms.store import OUTBOUND, SmsStore
from bot.db import make_engine
from tests.channels.sms.fakes import PEPPER, PHONE, Clock, RecordingSender, ScriptedBot, make_config

KEY = pseudonymise(PHONE, PEPPER)
FULL_SEGMENT = "x" * 152 + "a"  # a part that fills a segment: the service waits the whole window for the rest


class FailingOnceBot(ScriptedBot):
    """Rasa failing on the first turn (a crash, a timeout), answering afterwards."""

    failures: int = 1

    async def __call__(self, message: UserMessage) -> None:
        assert message.metadata is not None  # the SMS channel always sends its own
        self.tried_ids = [*getattr(self, "tried_ids", []), (message.message_id, message.metadata.get("message_id"))]
        if self.failures:
            self.failures -= 1
            raise RuntimeError("Rasa unavailable")
        await super().__call__(message)


def make_process(tmp_path: Path, name: str, bot: ScriptedBot, sender: RecordingSender, clock: Clock,
                 coalesce_seconds: float = 0) -> SmsService:
    """One process's SMS service on the shared database file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'project.db'}")
    config = make_config(coalesce_seconds=coalesce_seconds)
    inbox = SmsInbox(engine, PEPPER, owner=name)
    return SmsService(config, SmsStore(engine), {"android": sender}, bot, clock, inbox=inbox)


def sms(clock: Clock, text: str, message_id: str) -> InboundSms:
    return InboundSms(clock(), text, PHONE, "android", message_id)


async def test_an_sms_held_in_the_window_by_a_dead_process_is_answered_once_by_another(tmp_path: Path) -> None:
    clock, sender, bot = Clock(), RecordingSender(), ScriptedBot()
    dead = make_process(tmp_path, "dead", ScriptedBot(), sender, clock, coalesce_seconds=60)
    accepted = await dead.accept(sms(clock, FULL_SEGMENT, "evt-1"))
    assert accepted is not None
    await dead.dispatch(KEY, accepted)
    dead.coalescer.discard(KEY)  # the process dies: its window timer is gone, nothing was answered
    survivor = make_process(tmp_path, "survivor", bot, sender, clock)
    assert await survivor.recover() == 0  # the dead process's lease still runs
    clock.advance(seconds=31)
    assert await survivor.recover() == 1
    assert bot.texts == [FULL_SEGMENT]
    assert sender.sent == [(PHONE, f"Réponse à : {FULL_SEGMENT}\n" + HUMAN_LINE)]
    clock.advance(minutes=5)
    assert await survivor.recover() == 0
    assert len(sender.sent) == 1
    assert survivor.inbox.states() == {ANSWERED: 1}


async def test_a_live_process_keeps_its_sms_while_it_renews_the_lease(tmp_path: Path) -> None:
    clock, sender = Clock(), RecordingSender()
    holder = make_process(tmp_path, "holder", ScriptedBot(), sender, clock, coalesce_seconds=60)
    other_bot = ScriptedBot()
    other = make_process(tmp_path, "other", other_bot, sender, clock)
    accepted = await holder.accept(sms(clock, FULL_SEGMENT, "evt-1"))
    assert accepted is not None
    await holder.dispatch(KEY, accepted)
    for _ in range(4):  # two minutes of a slow window or turn, the holder's recovery pass every 20 s
        clock.advance(seconds=20)
        await holder.recover()
        assert await other.recover() == 0
    assert other_bot.received == []
    holder.coalescer.discard(KEY)


async def test_parts_accepted_by_one_process_are_joined_from_the_inbox(tmp_path: Path) -> None:
    clock, sender, bot = Clock(), RecordingSender(), ScriptedBot()
    service = make_process(tmp_path, "one", bot, sender, clock, coalesce_seconds=60)
    first = await service.accept(sms(clock, FULL_SEGMENT, "evt-1"))
    clock.advance(seconds=1)
    second = await service.accept(sms(clock, "dministration", "evt-2"))
    assert first is not None and second is not None
    await service._process_parts(KEY, [])  # the window ends: the parts come from the inbox, not from memory
    assert bot.texts == [FULL_SEGMENT + "dministration"]
    assert service.inbox.states() == {ANSWERED: 2}


async def test_a_retried_webhook_is_not_answered_twice(tmp_path: Path) -> None:
    clock, sender, bot = Clock(), RecordingSender(), ScriptedBot()
    service = make_process(tmp_path, "one", bot, sender, clock)
    await service.receive(sms(clock, "bonjour", "evt-1"))
    await service.receive(sms(clock, "bonjour", "evt-1"))
    assert bot.texts == ["bonjour"] and len(sender.sent) == 1


async def test_stop_finishes_the_parts_waiting_in_the_window_without_reading_them(tmp_path: Path) -> None:
    clock, sender, bot = Clock(), RecordingSender(), ScriptedBot()
    service = make_process(tmp_path, "one", bot, sender, clock, coalesce_seconds=60)
    part = await service.accept(sms(clock, FULL_SEGMENT, "evt-1"))
    assert part is not None
    await service.dispatch(KEY, part)
    await service.receive(sms(clock, "STOP", "evt-2"))
    assert bot.received == []
    assert [text for _, text in sender.sent][-1].startswith("Numécrivain : c'est noté")
    assert service.inbox.states() == {ANSWERED: 2}
    clock.advance(minutes=5)
    assert await service.recover() == 0


async def test_a_turn_that_failed_is_tried_again_after_the_lease_and_answered_once(tmp_path: Path) -> None:
    clock, sender, bot = Clock(), RecordingSender(), FailingOnceBot()
    service = make_process(tmp_path, "one", bot, sender, clock)
    await service.receive(sms(clock, "bonjour", "evt-1"))  # Rasa fails: logged, nothing sent
    assert sender.sent == []
    clock.advance(seconds=31)
    assert await service.recover() == 1
    assert bot.texts == ["bonjour"] and len(sender.sent) == 1
    assert service.inbox.states() == {ANSWERED: 1}
    # Both tries carry the same message id, so Rasa handles a turn it had already saved once (bot/resilience.py).
    first, second = bot.tried_ids
    assert first == second and first[0] == first[1] and str(first[0]).startswith("sms-")


async def test_a_failure_after_the_gateway_took_the_reply_does_not_answer_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, sender, bot = Clock(), RecordingSender(), ScriptedBot()
    service = make_process(tmp_path, "one", bot, sender, clock)
    record_traffic = service.store.record_traffic

    def outbound_count_fails(pseudonym: str, direction: str, segments: int, now: datetime) -> None:
        if direction == OUTBOUND:
            raise RuntimeError("database gone right after the send")
        record_traffic(pseudonym, direction, segments, now)

    monkeypatch.setattr(service.store, "record_traffic", outbound_count_fails)
    await service.receive(sms(clock, "bonjour", "evt-1"))  # the turn fails after the reply left: logged
    assert len(sender.sent) == 1
    assert service.inbox.states() == {ANSWERED: 1}  # marked as soon as the gateway took the reply
    clock.advance(minutes=5)
    assert await service.recover() == 0
    assert len(sender.sent) == 1
