"""By SMS through the channel's rules: the first SMS answers the question, PLUS sends the next part."""

from __future__ import annotations

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.render import MORE_NOTICE, is_link_only
from bot.channels.sms.service import SmsService
from bot.gsm7 import segment_count, to_gsm7
from bot.knowledge.render import render_sms
from tests.channels.sms.fakes import PHONE, Clock, RecordingSender, clock, sender, service  # noqa: F401
from tests.knowledge.samples import shipped_procedure


class ProcedureBot:
    """Stands for Rasa and the procedures action: every message is a question about the passport."""

    async def __call__(self, message: UserMessage) -> None:
        procedure = shipped_procedure("passport")
        for reply in render_sms(procedure, message.text):
            await message.output_channel.send_response(message.sender_id,
                                                       reply.with_human_offer().as_dispatch_kwargs())


@pytest.fixture
def bot() -> ProcedureBot:
    return ProcedureBot()


async def say(service: SmsService, clock: Clock, text: str) -> None:  # noqa: F811 (fixtures share the names)
    clock.advance(seconds=5)
    await service.receive(InboundSms(clock(), text, PHONE, "android"))


async def test_first_sms_answers_then_plus_gives_documents_then_the_offline_way_with_the_link(
        service: SmsService, sender: RecordingSender, clock: Clock) -> None:  # noqa: F811
    await say(service, clock, "combien coute un passeport pour mon fils de 12 ans")
    assert sender.texts[0].startswith(to_gsm7("Passeport enfant de moins de 15 ans: 17 €"))
    assert MORE_NOTICE in sender.texts[0]
    await say(service, clock, "PLUS")
    assert sender.texts[1].startswith("A apporter:")
    while MORE_NOTICE in sender.texts[-1]:
        await say(service, clock, "PLUS")
        assert len(sender.texts) < 10, "the whole answer must stay a few SMS"
    last = sender.texts[-1]
    assert "Sans Internet" in "".join(sender.texts[-2:])
    assert "service-public.gouv.fr/particuliers/vosdroits/F14929" in last
    assert not is_link_only(last.split("\n1 ")[0])  # the link comes with text, never alone
    assert all(segment_count(text) <= 2 for text in sender.texts)
