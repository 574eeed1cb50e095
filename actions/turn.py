"""What every action shares: its name, the tracker it reads, and replies sent as they are (buttons included)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.replies import Reply


class Named:
    """The name Rasa knows the action by, as a class attribute."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name


def say(dispatcher: CollectingDispatcher, *replies: Reply) -> None:
    """Send each reply with its buttons (a reply that must offer a person already ends with that choice)."""
    for reply in replies:
        dispatcher.utter_message(**reply.as_dispatch_kwargs())


@dataclass(frozen=True)
class Turn:
    """One action call: what the tracker says, and where the replies go."""

    dispatcher: CollectingDispatcher
    tracker: Tracker

    @property
    def channel(self) -> str | None:
        """The channel the latest message came from."""
        return self.tracker.get_latest_input_channel()

    @property
    def message(self) -> dict[str, Any]:
        """The latest user message (text, intent, entities, metadata)."""
        return self.tracker.latest_message or {}

    def slot(self, name: str) -> Any:
        """A slot's value."""
        return self.tracker.get_slot(name)

    def say(self, *replies: Reply) -> None:
        """Send replies to the user."""
        say(self.dispatcher, *replies)


class TurnAction(Named, Action, ABC):
    """An action that answers one turn: read the tracker, call bot/, say the result, return the events."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await self.answer(Turn(dispatcher, tracker))

    @abstractmethod
    async def answer(self, turn: Turn) -> list[EventType]:
        """The events of this turn, once the replies are said."""
