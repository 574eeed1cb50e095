"""The SMS conversation rules around Rasa: STOP/START, PLUS, menus, rate limits, agent relay."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.inputs import MAX_MESSAGE_CHARS, TOO_LONG_TEXT, as_typed_text, is_too_long
from bot.channels.sms.coalesce import Coalescer, InboundSms, join_parts
from bot.channels.sms.commands import HELP_MENU_PAYLOAD, Command, is_stop, parse_command, resolve_menu_choice
from bot.channels.sms.config import SmsConfig
from bot.channels.sms.inbox import SmsInbox
from bot.channels.sms.pseudonym import normalise_number, pseudonymise
from bot.channels.sms.render import SmsReply, render_messages, render_text
from bot.channels.sms.senders import SendError, SmsSender
from bot.channels.sms.store import INBOUND, OUTBOUND, Contact, SmsStore
from bot.gsm7 import segment_count, to_gsm7
from bot.handoff.survey import SMS_QUESTION
from bot.replies import HUMAN_PAYLOAD, PHONE_HELP

logger = logging.getLogger(__name__)

CHANNEL_NAME = "sms"  # bot.replies.SMS_CHANNELS: procedures then use their `sms` text
STOP_CONFIRMATION = "Numécrivain : c'est noté, vous ne recevrez plus de SMS. Pour reprendre, écrivez START."
START_CONFIRMATION = "C'est noté, vous pouvez de nouveau écrire à Numécrivain."
NOTHING_MORE = "Il n'y a pas de suite. Écrivez votre question, AIDE pour le menu."
LIMIT_NOTICE = (
    "Vous avez reçu beaucoup de messages. Je vous répondrai de nouveau dans une heure. "
    f"Une personne peut vous aider : {PHONE_HELP}."
)
DEFAULT_AGENT_ROLE = "conseiller"
ROBOT_ROLE = "robot"  # bot.handoff.rasa_api sends the bot's own words (its goodbye after a handoff) with this role

T = TypeVar("T")


@dataclass
class _Turn:
    """The SMS turn being answered: its inbox rows, and its id, given to Rasa as the message id (a turn taken over
    after a crash that Rasa had already saved is not handled twice, bot/resilience.py: its stored reply is sent)."""

    message_id: str
    row_ids: list[int] = field(default_factory=list)
    answered: bool = False


_current_turn: ContextVar[_Turn | None] = ContextVar("sms_current_turn", default=None)


def utc_now() -> datetime:
    """Naive UTC, as stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RelayResult(enum.Enum):
    """What happened to an agent's message."""

    DELIVERED = "delivered"
    UNKNOWN_SENDER = "unknown_sender"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"


class SmsOutput(CollectingOutputChannel):
    """Collects the bot's messages of one turn, so they leave as one SMS reply (a collector: see _Turn)."""

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
        with_person: Callable[[str], bool] | None = None,
        survey: Callable[[str, str, datetime], str | None] | None = None,
        inbox: SmsInbox | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.inbox = inbox or SmsInbox(store.engine, config.pepper,
                                       lease=timedelta(seconds=config.inbox_lease_seconds))
        self.senders = senders
        self.on_new_message = on_new_message
        self.clock = clock
        # True while the conversation waits for (or talks with) a person: "0 Parler à une personne" is then not offered.
        self.with_person = with_person
        # Reads the answer to the satisfaction question (bot.handoff.survey); returns the thanks, or None.
        self.survey = survey
        self.coalescer = Coalescer(config.coalesce_seconds, self._process_parts)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Inbox rows this process works on: their lease is renewed by recover() until they are answered.
        self._held: set[int] = set()

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a database call in a worker thread: the event loop never waits on SQLite or PostgreSQL."""
        return await asyncio.to_thread(function, *args)

    async def _offer_human(self, contact: Contact) -> bool:
        """Offer '0 Parler à une personne' unless a person is already on the way for this conversation."""
        if self.with_person is None:
            return True
        return not await self._db(self.with_person, contact.pseudonym)

    # --- Incoming ------------------------------------------------------------------------------------------

    async def receive(self, sms: InboundSms) -> None:
        """One verified incoming SMS, stored then handled (the webhook splits the two around its answer)."""
        accepted = await self.accept(sms)
        if accepted is not None:
            await self.dispatch(pseudonymise(sms.phone, self.config.pepper), accepted)

    async def accept(self, sms: InboundSms) -> InboundSms | None:
        """Make the SMS durable before the gateway hears 200: how to reply (contact), its count, its inbox row.

        None when the gateway's message id was already accepted (a retried or replayed webhook).
        """
        pseudonym = pseudonymise(sms.phone, self.config.pepper)
        now = self.clock()
        await self._db(self.store.upsert_contact, pseudonym, normalise_number(sms.phone), sms.gateway, now)
        provider_key = f"{sms.gateway}:{sms.message_id}" if sms.message_id else ""
        row = await self._db(self.inbox.accept, provider_key, pseudonym, sms.gateway, sms.text, sms.received_at, now)
        if row is None:
            return None
        self._held.add(row.id)
        await self._db(self.store.record_traffic, pseudonym, INBOUND, 1, now)
        return replace(sms, inbox_id=row.id)

    async def dispatch(self, pseudonym: str, sms: InboundSms) -> None:
        """An accepted SMS: STOP at once, everything else after the coalescing window."""
        if is_stop(sms.text):
            self.coalescer.discard(pseudonym)
            async with self._locks[pseudonym]:
                rows = await self._db(self.inbox.take_for_turn, pseudonym, self.clock())  # STOP and waiting parts
                contact = await self._db(self.store.get_contact, pseudonym)
                if contact is not None:
                    await self._stop(contact)
                await self._answered([row.id for row in rows] + [sms.inbox_id])
            return
        now = self.clock()
        received = await self._db(self.store.count_traffic, INBOUND, now - timedelta(hours=1), pseudonym)
        if received > self.config.max_inbound_per_hour:
            logger.warning("SMS %s: more than %d messages this hour, not answered",
                           pseudonym, self.config.max_inbound_per_hour)
            await self._answered([sms.inbox_id])
            return
        await self.coalescer.add(pseudonym, sms)

    async def _process_parts(self, pseudonym: str, _buffered: list[InboundSms]) -> None:
        """The window is over: the conversation's parts are read from the inbox (what this process holds)."""
        async with self._locks[pseudonym]:
            rows = await self._db(self.inbox.take_for_turn, pseudonym, self.clock())
            if not rows:
                return
            ids = [row.id for row in rows]
            turn = _Turn(f"sms-{rows[0].message_key[:32]}", ids)
            token = _current_turn.set(turn)
            try:
                text = join_parts([InboundSms(row.received_at, row.text, "", row.gateway, inbox_id=row.id)
                                   for row in rows])
                contact = await self._db(self.store.get_contact, pseudonym)
                if contact is not None and text:
                    await self.handle_text(contact, text)
            except Exception:
                # Not answered: the lease runs out and a recovery pass (here or elsewhere) tries again.
                self._held.difference_update(ids)
                with contextlib.suppress(Exception):
                    await self._db(self.inbox.release, ids)
                raise
            finally:
                _current_turn.reset(token)
            if not turn.answered:  # no reply was due (silent bot, STOP, limits)
                await self._answered(ids)

    async def _answered(self, ids: list[int]) -> None:
        """The reply was handed to the gateway (or none was due): the rows are done."""
        ids = [row_id for row_id in ids if row_id]
        self._held.difference_update(ids)
        await self._db(self.inbox.mark_answered, ids, self.clock())

    async def recover(self) -> int:
        """One recovery pass: renew this process's leases, take over the SMS a dead process left; how many."""
        now = self.clock()
        if self._held:
            await self._db(self.inbox.renew, sorted(self._held), now)
        rows = await self._db(self.inbox.claim_expired, now)
        for row in rows:
            self._held.add(row.id)
            logger.warning("SMS %s: message left by a stopped process, answered now (attempt %d)",
                           row.pseudonym, row.attempts)
            await self.dispatch(row.pseudonym,
                                InboundSms(row.received_at, row.text, "", row.gateway, inbox_id=row.id))
        return len(rows)

    async def run_recovery(self, interval: float) -> None:
        """recover() at once (start-up), then every `interval` seconds, until cancelled."""
        while True:
            try:
                await self.recover()
            except Exception as exc:  # the database restarting: the next pass tries again
                logger.warning("SMS inbox: recovery pass failed (%s)", type(exc).__name__)
            await asyncio.sleep(interval)

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
        if self.survey is not None:  # "1", "2" or "3" right after the satisfaction question answers it, once
            thanks = await self._db(self.survey, contact.pseudonym, text, self.clock())
            if thanks is not None:
                reply = render_text(thanks, max_segments=self.config.max_segments, offer_human=False)
                await self._send_reply(contact, reply, menu=None)
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
        turn = _current_turn.get()
        message_id = turn.message_id if turn is not None else ""
        metadata = {"channel": "sms", "message_id": message_id} if message_id else {"channel": "sms"}
        await self.on_new_message(UserMessage(text, output, contact.pseudonym, input_channel=CHANNEL_NAME,
                                              metadata=metadata, message_id=message_id or None))
        messages = ([{"text": prefix}] if prefix else []) + output.messages
        logger.debug("SMS %s: bot answered in %.2f s", contact.pseudonym,
                     asyncio.get_running_loop().time() - started)
        if not output.messages and not prefix:
            return  # e.g. the conversation is with an agent now: the bot stays silent
        reply = render_messages(messages, max_segments=self.config.max_segments,
                                offer_human=await self._offer_human(contact))
        await self._send_reply(contact, reply, menu=reply.menu)

    async def _send_reply(self, contact: Contact, reply: SmsReply, menu: dict[str, str] | None,
                          from_agent: bool = False) -> bool:
        await self._db(self.store.save_reply_state, contact.pseudonym, menu, list(reply.pages[1:]), self.clock())
        return await self.deliver(contact, reply.first, from_agent=from_agent)

    async def _send_next_page(self, contact: Contact) -> None:
        page = await self._db(self.store.pop_next_page, contact.pseudonym, self.clock())
        if page is None:
            reply = render_text(NOTHING_MORE, max_segments=self.config.max_segments,
                                offer_human=await self._offer_human(contact))
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
        turn = _current_turn.get()
        if turn is not None and not turn.answered:
            # Marked at once, before anything else: a process killed after the gateway took the reply and before
            # this commit is the one case where another process answers the SMS a second time.
            turn.answered = True
            await self._answered(turn.row_ids)
        await self._db(self.store.record_traffic, contact.pseudonym, OUTBOUND, segment_count(text), self.clock())
        return True

    # --- Human handoff relay -------------------------------------------------------------------------------

    async def relay_agent_message(self, pseudonym: str, text: str, agent: str = "",
                                  role: str = DEFAULT_AGENT_ROLE) -> RelayResult:
        """An agent's answer, sent by SMS with the agent's first name; PLUS gives the rest if it is long.

        The robot's goodbye (the handoff ended, timed out or was closed) is a bot reply again, so it offers
        '0 Parler à une personne' unless a person is on the way; an agent's words and notices do not (a person is
        there), nor the satisfaction question (it follows that goodbye and waits for 1, 2 or 3)."""
        contact = await self._db(self.store.get_contact, pseudonym)
        if contact is None:
            return RelayResult.UNKNOWN_SENDER
        if not contact.subscribed:
            return RelayResult.UNSUBSCRIBED
        prefix = f"{agent.strip()} ({role.strip() or DEFAULT_AGENT_ROLE}) : " if agent.strip() else ""
        robot_reply = bool(agent.strip()) and role.strip() == ROBOT_ROLE and text.strip() != SMS_QUESTION
        offer_human = robot_reply and await self._offer_human(contact)
        reply = render_text(prefix + text, max_segments=self.config.max_segments, offer_human=offer_human)
        async with self._locks[pseudonym]:
            sent = await self._send_reply(contact, reply, menu=reply.menu if offer_human else None, from_agent=True)
        return RelayResult.DELIVERED if sent else RelayResult.FAILED

    async def close(self) -> None:
        """Release the gateways' HTTP sessions."""
        for sender in self.senders.values():
            await sender.close()
