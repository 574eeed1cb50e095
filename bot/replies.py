"""Channel-neutral bot replies: text plus buttons, always with a way to reach a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.contacts import describe, phone_help


@dataclass(frozen=True)
class Button:
    """A choice offered to the user; SMS shows it as a numbered line."""

    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        """The form Rasa's dispatcher and channels expect."""
        return {"title": self.title, "payload": self.payload}


HUMAN_PAYLOAD = "/request_human"
HUMAN_BUTTON = Button("Parler à une personne", HUMAN_PAYLOAD)
PLACES_BUTTON = Button("Trouver de l'aide près de chez moi", "/find_help_nearby")
MENU_BUTTON = Button("Voir les sujets", "/help_menu")

# The phone line offered when the chat cannot help, from data/knowledge/contacts.yml: "Allô Service Public au 39 39".
PHONE_HELP = describe(phone_help())
# Old name still imported by a few modules: it now gives the confirmed national line, not Solidarité Numérique,
# whose current status no official text confirms.
SOLIDARITE_NUMERIQUE = PHONE_HELP


@dataclass
class Reply:
    """One bot message. The human button is added last unless the reply already has it."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    custom: dict[str, Any] | None = None

    def with_human_offer(self) -> Reply:
        """The same reply, ending with the 'Parler à une personne' choice."""
        if any(button.payload == HUMAN_PAYLOAD for button in self.buttons):
            return self
        return Reply(self.text, [*self.buttons, HUMAN_BUTTON], self.custom)

    def as_dispatch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for rasa_sdk's dispatcher.utter_message."""
        kwargs: dict[str, Any] = {"text": self.text, "buttons": [b.as_dict() for b in self.buttons]}
        if self.custom is not None:
            kwargs["json_message"] = self.custom
        return kwargs


SMS_CHANNELS = frozenset({"sms"})


def is_sms(channel: str | None) -> bool:
    """True when replies must fit SMS (short GSM-7 text, numbered choices)."""
    return (channel or "") in SMS_CHANNELS
