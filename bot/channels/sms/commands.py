"""The few SMS words handled before NLU: STOP, START, AIDE/MENU, PLUS and the numbered choices."""

from __future__ import annotations

import enum
import re

from bot.replies import HUMAN_PAYLOAD
from bot.text import fold

HELP_MENU_PAYLOAD = "/help_menu"


class Command(enum.Enum):
    """A conversation rule the channel applies itself."""

    STOP = "stop"
    START = "start"
    MENU = "menu"
    MORE = "more"
    HUMAN = "human"


_WORDS = {
    "stop": Command.STOP, "arret": Command.STOP, "stop sms": Command.STOP, "arreter": Command.STOP,
    "start": Command.START,
    "aide": Command.MENU, "menu": Command.MENU,
    "plus": Command.MORE, "suite": Command.MORE,
    "0": Command.HUMAN,
}


def normalise(text: str) -> str:
    """Lower case, no accents, no surrounding punctuation or spaces: 'Arrêt !' -> 'arret'."""
    folded = re.sub(r"\s+", " ", fold(text))
    return folded.strip(" \t\r\n.!?,;:'\"()")


def parse_command(text: str) -> Command | None:
    """The command a whole message is, or None when it is a question for the bot."""
    return _WORDS.get(normalise(text))


def is_stop(text: str) -> bool:
    """True for STOP / ARRET / ARRÊT, which must be honoured at once, before any coalescing."""
    return parse_command(text) is Command.STOP


def menu_number(text: str) -> str | None:
    """The number the user typed when the message is only a number ('2', '2.', ' 2 ')."""
    cleaned = normalise(text)
    return cleaned if re.fullmatch(r"[0-9]{1,2}", cleaned) else None


def resolve_menu_choice(text: str, menu: dict[str, str]) -> str | None:
    """The payload a numbered answer chooses in the last menu; '0' always reaches a person."""
    number = menu_number(text)
    if number is None:
        return None
    if number == "0":
        return HUMAN_PAYLOAD
    return menu.get(number)
