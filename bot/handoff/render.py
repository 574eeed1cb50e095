"""How the console shows a conversation: safe HTML from the bot's Markdown, button presses in words, French topics.

The Markdown is read by bot.markdown, which escapes every text and makes only a few tags (paragraphs, lists, bold,
italics, links to http(s), tel and mailto), so a resident's text can never inject markup into an agent's page.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from bot.markdown import parse, plain_lines, to_html
from bot.replies import CALLBACK_BUTTON, HUMAN_BUTTON, MENU_BUTTON, PLACES_BUTTON

CHANNEL_NAMES = {"webchat": "chat web", "sms": "SMS", "rest": "application (REST)", "cmdline": "terminal"}
_INTENT_TOPICS = {
    "find_help_nearby": "Trouver un lieu d'aide près de chez soi",
    "inform_location": "Trouver un lieu d'aide près de chez soi",
}
# A press whose offered choices are unknown: the title of the shared button it came from (bot/replies.py).
_COMMAND_WORDS = {b.payload: b.title for b in (HUMAN_BUTTON, CALLBACK_BUTTON, MENU_BUTTON, PLACES_BUTTON)}
MAX_RENDERED_CHARS = 8000


def markdown_to_html(text: str) -> str:
    """The bot's Markdown as HTML an agent's page may show: everything escaped, a few tags made by bot.markdown."""
    return to_html(text[:MAX_RENDERED_CHARS])


def first_line(text: str, limit: int = 90) -> str:
    """The opening words of a bot answer, without Markdown, for its folded summary."""
    for line in plain_lines(parse(text[:MAX_RENDERED_CHARS])):
        plain = line.strip(" -*•")
        if plain:
            return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
    return ""


def command_in_words(text: str, choices: dict[str, str] | None = None) -> str | None:
    """What a button press ("/request_human", '/choose{"x":1}') means, or None when the text is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    if choices and stripped in choices:
        return f"A choisi : « {choices[stripped]} »"
    name = re.split(r"[{\s]", stripped, maxsplit=1)[0]
    if name in _COMMAND_WORDS:
        return f"A choisi : « {_COMMAND_WORDS[name]} »"
    return "A appuyé sur un bouton"


@functools.lru_cache(maxsize=1)
def _procedure_titles() -> dict[str, str]:
    try:
        from bot.knowledge import get_knowledge_base

        return {procedure.id: procedure.title for procedure in get_knowledge_base()}
    except Exception:  # the console must work even when the knowledge base cannot be read
        return {}


def topic_in_french(topic: str | None) -> str | None:
    """The knowledge base's title for a procedure id or intent; a readable fallback otherwise."""
    if not topic:
        return None
    titles = _procedure_titles()
    key = topic.removeprefix("procedure_")
    if key in titles:
        return titles[key]
    if topic in _INTENT_TOPICS:
        return _INTENT_TOPICS[topic]
    return key.replace("_", " ")


def channel_in_french(channel: str | None) -> str:
    """The channel as agents say it."""
    return CHANNEL_NAMES.get(channel or "", channel or "inconnu")


def present_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add what the console shows: `html` for bot and agent texts, commands in words, a summary for bot answers."""
    choices: dict[str, str] = {}
    shown = []
    for message in messages:
        message = dict(message)
        text = str(message.get("text") or "")
        if message.get("role") == "note":
            pass  # an agent's note to the team: shown as typed
        elif message.get("role") == "user":
            words = command_in_words(text, choices)
            if words is not None:
                message["command"] = True
                message["text"] = words
        else:
            message["html"] = markdown_to_html(text)
            if message.get("role") == "bot":
                message["summary"] = first_line(text)
            for payload, title in (message.get("payloads") or {}).items():
                choices[payload] = title
        message.pop("payloads", None)
        shown.append(message)
    return shown


__all__ = [
    "channel_in_french",
    "command_in_words",
    "first_line",
    "markdown_to_html",
    "present_messages",
    "topic_in_french",
]
