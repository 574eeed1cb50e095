"""The SMS conversation rules around Rasa: STOP/START, PLUS, menus, rate limits, agent relay."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.channels.inputs import MAX_MESSAGE_CHARS, TOO_LONG_TEXT, as_typed_text, is_too_long
from bot.channels.sms.coalesce import Coalescer, InboundSms, join_parts
from bot.channels.sms.commands import HELP_MENU_PAYLOAD, Command, is_stop, parse_command, resolve_menu_choice
from bot.channels.sms.config import SmsConfig
from bot.channels.sms.pseudonym import normalise_number, pseudonymise
from bot.channels.sms.render import SmsReply, render_messages, render_text
from bot.channels.sms.senders import SendError, SmsSender
from bot.channels.sms.store import INBOUND, OUTBOUND, Contact, SmsStore
from bot.gsm7 import segment_count, to_gsm7
from bot.replies import HUMAN_PAYLOAD, SOLIDARITE_NUMERIQUE

logger = logging.getLogger(__name__)

CHANNEL_NAME = "sms"  # bot.replies.SMS_CHANNELS: procedures then use their `sms` text
STOP_CONFIRMATION = "Numécrivain : c'est noté, vous ne recevrez plus de SMS. Pour reprendre, écrivez START."
START_CONFIRMATION = "C'est noté, vous pouvez de nouveau écrire à Numécrivain."
NOTHING_MORE = "Il n'y a pas de suite. Écrivez votre question, AIDE pour le menu."
LIMIT_NOTICE = (
    "Vous avez reçu beaucoup de messages. Je vous répondrai de nouveau dans une heure. "
    f"Une personne peut vous aider : {SOLIDARITE_NUMERIQUE.split(' (')[0]} (gratuit)."
)
DEFAULT_AGENT_ROLE = "conseiller"

T = TypeVar("T")


def utc_now() -> datetime:
    """Naive UTC, as stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RelayResult(enum.Enum):
    """What happened to an agent's message."""

    DELIVERED = "delivered"
    UNKNOWN_SENDER = "unknown_sender"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"


class SmsOutput(OutputChannel):
    """Collects the bot's messages of one turn, so they leave as one SMS reply."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep the whole message (text, buttons, image) for the SMS renderer."""
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Keep a plain text message."""
        self.messages.append({"text": text})


class SmsService:
    """Everything between a verified webhook and the gateway API; knows nothing of HTTP frameworks."""

    def __init__(
        self,
        config: SmsConfig,
        store: SmsStore,
        senders: Mapping[str, SmsSender],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.store = store
        self.senders = senders
        self.on_new_message = on_new_message
        self.clock = clock
        self.coalescer = Coalescer(config.coalesce_seconds, self._process_parts)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a database call in a worker thread: the event loop never waits on SQLite or PostgreSQL."""
        return await asyncio.to_thread(function, *args)

    # --- Incoming ------------------------------------------------------------------------------------------

    async def receive(self, sms: InboundSms) -> None:
        """One verified incoming SMS: STOP at once, everything else after the coalescing window."""
        pseudonym = pseudonymise(sms.phone, self.config.pepper)
        now = self.clock()
        contact = await self._db(self.store.upsert_contact, pseudonym, normalise_number(sms.phone), sms.gateway, now)
        await self._db(self.store.record_traffic, pseudonym, INBOUND, 1, now)
        if is_stop(sms.text):
            self.coalescer.discard(pseudonym)
            async with self._locks[pseudonym]:
                await self._stop(contact)
            return
        received = await self._db(self.store.count_traffic, INBOUND, now - timedelta(hours=1), pseudonym)
        if received > self.config.max_inbound_per_hour:
            logger.warning("SMS %s: more than %d messages this hour, not answered",
                           pseudonym, self.config.max_inbound_per_hour)
            return
        await self.coalescer.add(pseudonym, sms)

    async def _process_parts(self, pseudonym: str, parts: list[InboundSms]) -> None:
        text = join_parts(parts)
        async with self._locks[pseudonym]:
            contact = await self._db(self.store.get_contact, pseudonym)
            if contact is not None and text:
                await self.handle_text(contact, text)

    async def handle_text(self, contact: Contact, text: str) -> None:
        """Apply the SMS rules, then hand what remains to the bot (typed text as text, menu digits as choices)."""
        if is_too_long(text, MAX_MESSAGE_CHARS):
            if contact.subscribed:
                reply = render_text(TOO_LONG_TEXT, max_segments=self.config.max_segments)
                await self._send_reply(contact, reply, menu=reply.menu)
            return
        command = parse_command(text)
        if not contact.subscribed:
            if command is Command.START:
                await self._db(self.store.set_subscribed, contact.pseudonym, True, self.clock())
                await self.ask_bot(contact, HELP_MENU_PAYLOAD, prefix=START_CONFIRMATION)
            else:
                logger.info("SMS %s: unsubscribed (STOP), message not answered", contact.pseudonym)
            return
        if command is Command.STOP:
            await self._stop(contact)
        elif command is Command.MORE:
            await self._send_next_page(contact)
        elif command in (Command.MENU, Command.START):
            await self.ask_bot(contact, HELP_MENU_PAYLOAD)
        elif command is Command.HUMAN:
            await self.ask_bot(contact, HUMAN_PAYLOAD)
        else:
            payload = resolve_menu_choice(text, contact.menu)
            await self.ask_bot(contact, payload or as_typed_text(text))

    async def ask_bot(self, contact: Contact, text: str, prefix: str = "") -> None:
        """One turn of the Rasa conversation keyed by the pseudonym; its messages leave as one SMS reply."""
        output = SmsOutput()
        started = asyncio.get_running_loop().time()
        await self.on_new_message(
            UserMessage(text, output, contact.pseudonym, input_channel=CHANNEL_NAME, metadata={"channel": "sms"})
        )
        messages = ([{"text": prefix}] if prefix else []) + output.messages
        logger.debug("SMS %s: bot answered in %.2f s", contact.pseudonym,
                     asyncio.get_running_loop().time() - started)
        if not output.messages and not prefix:
            return  # e.g. the conversation is with an agent now: the bot stays silent
        reply = render_messages(messages, max_segments=self.config.max_segments)
        await self._send_reply(contact, reply, menu=reply.menu)

    async def _send_reply(self, contact: Contact, reply: SmsReply, menu: dict[str, str] | None,
                          from_agent: bool = False) -> bool:
        await self._db(self.store.save_reply_state, contact.pseudonym, menu, list(reply.pages[1:]), self.clock())
        return await self.deliver(contact, reply.first, from_agent=from_agent)

    async def _send_next_page(self, contact: Contact) -> None:
        page = await self._db(self.store.pop_next_page, contact.pseudonym, self.clock())
        if page is None:
            reply = render_text(NOTHING_MORE, max_segments=self.config.max_segments)
            await self._send_reply(contact, reply, menu=None)
            return
        await self.deliver(contact, page)

    async def _stop(self, contact: Contact) -> None:
        """Unsubscribe now; one confirmation, then silence until START."""
        if not contact.subscribed:
            return
        await self._db(self.store.set_subscribed, contact.pseudonym, False, self.clock())
        logger.info("SMS %s: unsubscribed (STOP)", contact.pseudonym)
        await self.deliver(contact, to_gsm7(STOP_CONFIRMATION), even_unsubscribed=True)

    # --- Outgoing ------------------------------------------------------------------------------------------

    async def deliver(self, contact: Contact, text: str, *, from_agent: bool = False,
                      even_unsubscribed: bool = False) -> bool:
        """Send one page if the rules allow it; False when it was not sent (STOP, limits, gateway down)."""
        if not text:
            return False
        now = self.clock()
        hour_ago = now - timedelta(hours=1)
        if not even_unsubscribed:
            current = await self._db(self.store.get_contact, contact.pseudonym)
            if current is None or not current.subscribed:
                return False
            contact = current
        if await self._db(self.store.count_traffic, OUTBOUND, hour_ago) >= self.config.max_replies_per_hour_total:
            logger.error("SMS budget: %d SMS sent this hour, nothing more is sent",
                         self.config.max_replies_per_hour_total)
            return False
        if not from_agent:
            sent = await self._db(self.store.count_traffic, OUTBOUND, hour_ago, contact.pseudonym)
            if sent >= self.config.max_replies_per_hour:
                if contact.limit_notice_at is None or contact.limit_notice_at < hour_ago:
                    await self._db(self.store.mark_limit_notice, contact.pseudonym, now)
                    logger.warning("SMS %s: hourly limit reached, notice sent", contact.pseudonym)
                    await self._send_now(contact, to_gsm7(LIMIT_NOTICE))
                    return False
                logger.warning("SMS %s: hourly limit reached, reply dropped", contact.pseudonym)
                return False
        return await self._send_now(contact, text)

    async def _send_now(self, contact: Contact, text: str) -> bool:
        sender = self.senders.get(contact.gateway) or self.senders.get(self.config.default_gateway)
        if sender is None:
            logger.error("SMS %s: no sender configured for gateway %s", contact.pseudonym, contact.gateway)
            return False
        try:
            await sender.send(contact.phone, text)
        except SendError as exc:
            logger.error("SMS %s: not sent (%s)", contact.pseudonym, exc)
            return False
        await self._db(self.store.record_traffic, contact.pseudonym, OUTBOUND, segment_count(text), self.clock())
        return True

    # --- Human handoff relay -------------------------------------------------------------------------------

    async def relay_agent_message(self, pseudonym: str, text: str, agent: str = "",
                                  role: str = DEFAULT_AGENT_ROLE) -> RelayResult:
        """An agent's answer, sent by SMS with the agent's first name; PLUS gives the rest if it is long."""
        contact = await self._db(self.store.get_contact, pseudonym)
        if contact is None:
            return RelayResult.UNKNOWN_SENDER
        if not contact.subscribed:
            return RelayResult.UNSUBSCRIBED
        prefix = f"{agent.strip()} ({role.strip() or DEFAULT_AGENT_ROLE}) : " if agent.strip() else ""
        reply = render_text(prefix + text, max_segments=self.config.max_segments, offer_human=False)
        async with self._locks[pseudonym]:
            sent = await self._send_reply(contact, reply, menu=None, from_agent=True)
        return RelayResult.DELIVERED if sent else RelayResult.FAILED

    async def close(self) -> None:
        """Release the gateways' HTTP sessions."""
        for sender in self.senders.values():
            await sender.close()
