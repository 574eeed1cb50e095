"""Where handoff requests go: the built-in console (default) or, behind the same Protocol, an external tool.

An external agent tool (for instance Chatwoot's agent-bot API) would implement `HandoffTarget`: `enqueue`
creates the conversation there, `notify` forwards what the user does while waiting, `availability` asks the
tool whether someone is online. Select it with NUMECRIVAIN_HANDOFF_TARGET.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.future import Engine

from bot.handoff.accounts import AgentDirectory
from bot.handoff.availability import Availability, check_availability
from bot.handoff.config import HandoffConfig, get_handoff_config
from bot.handoff.store import USER_LEFT, ConversationClosedError, HandoffQueue

USER_MESSAGE, USER_LEFT_EVENT = "user_message", "user_left"


@dataclass(frozen=True)
class HandoffTicket:
    """What an agent needs to pick up a conversation."""

    sender_id: str
    channel: str
    transcript: list[dict[str, Any]]
    commune: str | None = None
    topic: str | None = None
    client_key: str | None = None  # keyed hash of the address that asked, set by the channel (never the address)


@dataclass(frozen=True)
class QueuedHandoff:
    """The receipt of a queued request."""

    reference: str
    position: int | None = None
    outbox_key: str | None = None  # for channels that cannot push (REST): the key to read agent messages


class UnknownTargetError(ValueError):
    """NUMECRIVAIN_HANDOFF_TARGET names no known target."""


@runtime_checkable
class HandoffTarget(Protocol):
    """A place where people pick up conversations."""

    name: str

    def availability(self, now: datetime | None = None) -> Availability:
        """Whether someone can answer now (service hours, presence)."""

    def enqueue(self, ticket: HandoffTicket) -> QueuedHandoff:
        """Put the conversation in front of people; raises on storage failure (the bot then does not pause)."""

    def notify(self, sender_id: str, event: str, text: str | None = None) -> None:
        """Tell the target what the user did while waiting (USER_MESSAGE, USER_LEFT_EVENT)."""


class ConsoleTarget:
    """The built-in agent console: a persistent queue in the project database."""

    name = "console"

    def __init__(self, engine: Engine | None = None, config: HandoffConfig | None = None) -> None:
        self.config = config or get_handoff_config()
        self.queue = HandoffQueue(engine)
        self.directory = AgentDirectory(self.queue.engine)

    def availability(self, now: datetime | None = None) -> Availability:
        return check_availability(self.config, self.directory, now)

    def enqueue(self, ticket: HandoffTicket) -> QueuedHandoff:
        request = self.queue.enqueue(
            ticket.sender_id, ticket.channel, ticket.transcript, commune=ticket.commune, topic=ticket.topic,
            client_key=ticket.client_key, max_waiting_per_client=self.config.max_waiting_per_address,
        )
        return QueuedHandoff(str(request.id), self.queue.waiting_position(request), request.outbox_key)

    def notify(self, sender_id: str, event: str, text: str | None = None) -> None:
        # The console reads user messages from the Rasa tracker; only a departure changes the queue.
        if event != USER_LEFT_EVENT:
            return
        request = self.queue.open_request_for(sender_id)
        if request is not None:
            with contextlib.suppress(ConversationClosedError):
                self.queue.close(request.id, USER_LEFT)


def get_target(engine: Engine | None = None, config: HandoffConfig | None = None) -> HandoffTarget:
    """The configured target (only "console" is built in)."""
    config = config or get_handoff_config()
    if config.target == "console":
        return ConsoleTarget(engine, config)
    raise UnknownTargetError(config.target)
