"""SMS wording: no "0 Parler à une personne" for someone already waiting, signs GSM-7 lacks said in words."""

from __future__ import annotations

from pathlib import Path

from rasa.core.channels.channel import UserMessage

from bot.channels.sms.channel import handoff_checker
from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.render import HUMAN_LINE, render_text
from bot.channels.sms.service import SmsService
from bot.db import make_engine
from bot.gsm7 import is_gsm7
from bot.handoff.service import queued_reply
from bot.handoff.store import HandoffQueue
from bot.handoff.targets import QueuedHandoff
from tests.channels.sms.fakes import PHONE, Clock, RecordingSender, make_config, make_store


class QueueingBot:
    """Stands for Rasa: '/request_human' queues the conversation and answers like the handoff action."""

    def __init__(self, queue: HandoffQueue) -> None:
        self.queue = queue

    async def __call__(self, message: UserMessage) -> None:
        if message.text == "/request_human":
            request = self.queue.enqueue(message.sender_id, "sms", [])
            reply = queued_reply(QueuedHandoff(str(request.id), self.queue.waiting_position(request)), "sms")
            await message.output_channel.send_response(message.sender_id, {"text": reply.text})
        else:
            await message.output_channel.send_response(message.sender_id, {"text": "Voici la réponse."})


def _service(tmp_path: Path, sender: RecordingSender, clock: Clock) -> tuple[SmsService, HandoffQueue]:
    store = make_store(tmp_path)
    queue = HandoffQueue(store.engine)
    service = SmsService(make_config(), store, {"android": sender}, QueueingBot(queue), clock,
                         with_person=handoff_checker(store.engine))
    return service, queue


async def _say(service: SmsService, clock: Clock, text: str) -> None:
    clock.advance(seconds=5)
    await service.receive(InboundSms(clock(), text, PHONE, "android"))


async def test_someone_waiting_for_a_person_is_not_offered_a_person_again(tmp_path: Path) -> None:
    sender, clock = RecordingSender(), Clock()
    service, queue = _service(tmp_path, sender, clock)
    await _say(service, clock, "bonjour")
    assert sender.texts[-1].endswith(HUMAN_LINE)
    await _say(service, clock, "0")
    queued = sender.texts[-1]
    assert queued.startswith("C'est noté : une personne va vous répondre par SMS.")
    assert "Parler a une personne" not in queued and "Parler à une personne" not in queued
    await _say(service, clock, "PLUS")  # nothing more to read: the notice does not offer a person either
    assert HUMAN_LINE not in sender.texts[-1]
    [request] = queue.waiting()
    queue.close(request.id, "expired")
    await _say(service, clock, "PLUS")
    assert sender.texts[-1].endswith(HUMAN_LINE)  # nobody on the way any more: '0' is offered again


async def test_unreadable_handoff_queue_keeps_the_way_to_a_person(tmp_path: Path) -> None:
    broken = handoff_checker(make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}"))
    assert broken("someone") is False


def test_queue_position_reads_as_words_in_gsm7() -> None:
    text = queued_reply(QueuedHandoff("1", 1), "sms").text
    page = render_text(text, offer_human=False).first
    assert "Vous etes numéro 1 dans la file d'attente." in page
    assert " n 1 " not in page and is_gsm7(page)


def test_number_sign_in_menus_and_texts_becomes_numero() -> None:
    reply = render_text("Bulletin n°3 du casier judiciaire.", [{"title": "Bulletin n° 3", "payload": "/b3"}])
    assert reply.first.startswith("Bulletin numéro 3 du casier judiciaire.\n1 Bulletin numéro 3\n")
