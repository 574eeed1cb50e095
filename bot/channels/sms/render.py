"""Bot replies as SMS: GSM-7 text without Markdown, one numbered menu ('0' = a person), PLUS for the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.gsm7 import MULTI_SEGMENT_SEPTETS, SINGLE_SEGMENT_SEPTETS, septets, to_gsm7
from bot.markdown import Link, plain_text
from bot.replies import HUMAN_BUTTON, HUMAN_PAYLOAD, SMS_PAGE_BREAK

MORE_NOTICE = "Répondez PLUS pour la suite"
HUMAN_LINE = f"0 {HUMAN_BUTTON.title}"
MAX_TITLE = 40
_TOP_LEVEL_DOMAINS = frozenset({"fr", "com", "org", "net", "eu", "gouv"})
_TRACKING = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|xtor|at_[a-z]+|_ga|_hs[a-z]+|ref)$", re.I
)


@dataclass(frozen=True)
class MenuItem:
    """One numbered line of the SMS menu."""

    number: str
    title: str
    payload: str

    @property
    def line(self) -> str:
        """How the choice reads in the SMS."""
        return f"{self.number} {self.title}"


@dataclass(frozen=True)
class SmsReply:
    """What to send: the pages (first one now, the others on PLUS) and the menu to remember."""

    pages: tuple[str, ...]
    menu: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> str:
        """The page sent right away."""
        return self.pages[0] if self.pages else ""


def segment_budget(max_segments: int) -> int:
    """Septets that fit in max_segments SMS (160 alone, 153 each when concatenated)."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    return SINGLE_SEGMENT_SEPTETS if max_segments == 1 else MULTI_SEGMENT_SEPTETS * max_segments


# --- Links and Markdown ----------------------------------------------------------------------------------


def clean_url(url: str) -> str:
    """The official address without tracking parameters, and without 'https://' before 'www.'."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    path = parts.path if parts.path not in ("", "/") else ""
    cleaned = urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))
    if cleaned.startswith("https://www."):
        cleaned = cleaned.removeprefix("https://")
    return cleaned


def sms_link(link: Link) -> str:
    """A link as an SMS shows it: 'title : short URL', or the short URL alone when the title is the address."""
    short = clean_url(link.href)
    title = link.text.strip()
    bare = short.removeprefix("www.").removeprefix("http://").removeprefix("https://")
    if title == link.href or not title or title.casefold().removeprefix("www.") in (short.casefold(), bare.casefold()):
        return short
    return f"{title} : {short}"


def strip_markdown(text: str) -> str:
    """Plain text from the small Markdown our replies use (bot.markdown); links become 'title : short URL'."""
    return plain_text(text, sms_link)


# Signs GSM-7 lacks, said in words before transliteration ("n° 1" would become "n 1").
_SMS_WORDS = (
    (re.compile(r"\bn°\s*(?=\d)"), "numéro "),
    (re.compile(r"\bN°\s*(?=\d)"), "Numéro "),
    (re.compile(r"\b[nN]°\s*"), "numéro "),
    (re.compile(r"(?<=\d)\s*°C\b"), " degrés"),
)


def sms_words(text: str) -> str:
    """Text whose signs missing from GSM-7 are written in words, so nothing reads oddly once transliterated."""
    for pattern, words in _SMS_WORDS:
        text = pattern.sub(words, text)
    return text


def sms_text(text: str) -> str:
    """Any bot text as GSM-7 plain text (never a silent switch to UCS-2)."""
    text = re.sub(r"\s*»", '"', re.sub(r"«\s*", '"', sms_words(strip_markdown(text))))
    lines = (re.sub(r" {2,}", " ", line).strip() for line in to_gsm7(text).splitlines())
    return "\n".join(line for line in lines if line)


# --- Menu ------------------------------------------------------------------------------------------------


def _short_title(title: str) -> str:
    title = to_gsm7(sms_words(strip_markdown(title))).replace("\n", " ").strip()
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 3].rstrip() + "..."


def build_menu(buttons: Iterable[Mapping[str, Any]], offer_human: bool = True) -> list[MenuItem]:
    """Numbered choices in the order given, without duplicates; the person is always '0', last."""
    items: list[MenuItem] = []
    seen: set[str] = set()
    has_human = False
    for button in buttons:
        payload = str(button.get("payload") or "").strip()
        title = str(button.get("title") or "").strip()
        if not payload or payload in seen:
            continue
        seen.add(payload)
        if payload == HUMAN_PAYLOAD:
            has_human = True
            continue
        items.append(MenuItem(str(len(items) + 1), _short_title(title or payload), payload))
    if offer_human or has_human:
        items.append(MenuItem("0", to_gsm7(HUMAN_BUTTON.title), HUMAN_PAYLOAD))
    return items


def menu_mapping(items: Iterable[MenuItem]) -> dict[str, str]:
    """Number -> payload, what the channel remembers to understand '1', '2', '0'."""
    return {item.number: item.payload for item in items}


# --- Pages -----------------------------------------------------------------------------------------------


def _cut(text: str, capacity: int) -> tuple[str, str]:
    """Split text at a natural boundary so that the first part takes at most `capacity` septets."""
    used, end = 0, 0
    for index, char in enumerate(text):
        used += septets(char)
        if used > capacity:
            break
        end = index + 1
    else:
        return text, ""
    head = text[:end]
    best = -1
    for pattern in (r"\n", r"[.!?](?=\s)", r"[:;](?=\s)", r"\s"):
        found = [m.end() for m in re.finditer(pattern, head + text[end:end + 1])]
        found = [pos for pos in found if pos <= end and (pattern == r"\s" or pos >= end * 0.6)]
        if found:
            best = max(found)
            break
    if best <= 0:
        best = end
    return text[:best].rstrip(), text[best:].lstrip()


def is_link_only(text: str) -> bool:
    """True for a text that is a link and little else ('Infos: site.fr/page'): useless alone on a basic phone."""
    words = text.split()
    links = [word for word in words
             if "/" in word or (word.rstrip(".,;").rsplit(".", 1)[-1].lower() in _TOP_LEVEL_DOMAINS and "." in word)]
    rest = " ".join(word for word in words if word not in links)
    return bool(links) and len(re.sub(r"[^A-Za-z0-9]", "", rest)) < 20


def paginate(body: str, footer: str, budget: int, more_after: bool = False) -> list[str]:
    """Pages of at most `budget` septets, each ending with the footer; all but the last say PLUS.

    With `more_after`, even the last page says PLUS (another part follows). A page never holds only a link:
    the link joins the text before it.
    """
    join = "\n" if body and footer else ""
    if not more_after and septets(body + join + footer) <= budget:
        return [body + join + footer]
    suffix = "\n" + MORE_NOTICE + ("\n" + footer if footer else "")
    capacity = budget - septets(suffix)
    if capacity < 20:
        raise ValueError("the footer leaves no room for text; raise max_segments or shorten the menu")
    pages: list[str] = []
    rest = body
    while rest:
        if not more_after and septets(rest + join + footer) <= budget:
            pages.append(rest + join + footer)
            break
        if more_after and septets(rest) <= capacity:
            pages.append(rest + suffix)
            break
        chunk, after = _cut(rest, capacity)
        if after and is_link_only(after):
            if not more_after and septets(chunk + "\n" + after + join + footer) <= budget:
                pages.append(chunk + "\n" + after + join + footer)  # the link fits where PLUS was
                break
            chunk, after = _cut(rest, max(20, capacity - septets(after) - 1))  # text before the link moves on
        pages.append(chunk + suffix)
        rest = after
    return pages


def render_messages(
    messages: Sequence[Mapping[str, Any]], max_segments: int = 2, offer_human: bool = True
) -> SmsReply:
    """All bot messages of one turn as one SMS reply: texts joined, buttons merged into one menu."""
    texts: list[str] = []
    buttons: list[Mapping[str, Any]] = []
    for message in messages:
        if message.get("text"):
            texts.append(str(message["text"]))
        if message.get("image"):
            texts.append(str(message["image"]))
        buttons.extend(message.get("buttons") or [])
        buttons.extend(message.get("quick_replies") or [])
    return render_text("\n".join(texts), buttons, max_segments=max_segments, offer_human=offer_human)


def render_text(
    text: str,
    buttons: Iterable[Mapping[str, Any]] = (),
    *,
    max_segments: int = 2,
    offer_human: bool = True,
) -> SmsReply:
    """One text and its buttons as SMS pages; the numbered menu ends every page while it fits."""
    budget = segment_budget(max_segments)
    body = SMS_PAGE_BREAK.join(sms_text(part) for part in text.split(SMS_PAGE_BREAK))
    items = build_menu(buttons, offer_human=offer_human)
    footer = "\n".join(item.line for item in items)
    if septets(footer) > budget * 2 // 3:
        # A long menu travels with the text; only the way to a person stays on every page.
        body = "\n".join(part for part in (body, *(i.line for i in items if i.number != "0")) if part)
        footer = HUMAN_LINE if any(i.number == "0" for i in items) else ""
    parts = [part for part in body.split(SMS_PAGE_BREAK) if part.strip()] or [""]
    pages: list[str] = []
    if body or footer:
        for index, part in enumerate(parts):  # each part starts a page: PLUS gives the next part
            # Pages between the first and the last part keep only the way to a person: more room for text.
            middle = 0 < index < len(parts) - 1 and HUMAN_LINE in footer.split("\n")
            pages += paginate(part.strip("\n"), to_gsm7(HUMAN_LINE if middle else footer), budget,
                              more_after=index < len(parts) - 1)
    return SmsReply(tuple(pages), menu_mapping(items))
