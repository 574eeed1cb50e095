"""Channel-neutral bot replies: text plus buttons, always with a way to reach a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.gsm7 import to_gsm7
from bot.knowledge.contacts import describe, phone_help


@dataclass(frozen=True)
class Button:
    """A choice offered to the user; SMS shows it as a numbered line."""

    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        """The form Rasa's dispatcher and channels expect."""
        return {"title": self.title, "payload": self.payload}


# The choices offered in several places (domain.yml's responses, actions, channels, the widget), written once here.
# domain.yml cannot import them: tests/texts/test_shared_texts.py checks that its buttons are these.
HUMAN_PAYLOAD = "/request_human"
PLACES_PAYLOAD = "/find_help_nearby"
MENU_PAYLOAD = "/help_menu"
CALLBACK_PAYLOAD = "/request_callback"
HUMAN_BUTTON = Button("Parler à une personne", HUMAN_PAYLOAD)
PLACES_BUTTON = Button("Trouver de l'aide près de chez moi", PLACES_PAYLOAD)
MENU_BUTTON = Button("Voir les sujets", MENU_PAYLOAD)
OTHER_BUTTON = Button("Autre chose", MENU_PAYLOAD)  # after proposed procedures: none of them
CALLBACK_BUTTON = Button("Être rappelé(e)", CALLBACK_PAYLOAD)
SHARED_BUTTONS = (HUMAN_BUTTON, PLACES_BUTTON, MENU_BUTTON, OTHER_BUTTON, CALLBACK_BUTTON)

# The phone line offered when the chat cannot help: name, number and hours from data/knowledge/contacts.yml
# (PHONE_HELP_ID in bot/knowledge/contacts.py). Texts use these, never the number itself.
PHONE_HELP = describe(phone_help())
PHONE_HELP_SMS = to_gsm7(PHONE_HELP)


def call_phone_help(sms: bool = False) -> str:
    """The sentence that gives the phone line, for the end of a reply that could not help."""
    return f"Vous pouvez appeler {PHONE_HELP_SMS if sms else PHONE_HELP}."


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
# Between two parts of one reply that SMS sends on separate pages (the next one on PLUS). Elsewhere (agent
# transcripts) it reads as a Markdown rule between the parts.
SMS_PAGE_BREAK = "\n\n---\n\n"


def is_sms(channel: str | None) -> bool:
    """True when replies must fit SMS (short GSM-7 text, numbered choices)."""
    return (channel or "") in SMS_CHANNELS
