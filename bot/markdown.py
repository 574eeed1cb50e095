"""The small Markdown of bot replies, read once into parts that every channel renders its own way.

Replies are written in a Markdown subset (paragraphs and line breaks, bullet and numbered lists, bold, italics,
links, bare addresses, backslash escapes such as ``Espace\\_X`` from bot.places.render.escape_markdown). Reading
it here, once, keeps the channels in agreement: plain text for SMS, escaped HTML for the agents' console, and
JSON parts the web widget turns into DOM nodes without ever parsing Markdown or HTML itself.

Other forms a person may type (headings, quotes, code, strikethrough, images, rules) lose their marks and keep
their words. Reading is linear in the text: one pass per line, delimiters paired with a stack, and the only
patterns are anchored with bounded, non-overlapping repeats.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 20_000  # longer texts are cut before reading: bot replies and agents' messages are far shorter
MAX_DEPTH = 4  # lists nested deeper are read as lines of text
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BULLET = re.compile(r"( *)([-*+•])[ \t]+(\S.*)")
_ORDERED = re.compile(r"( *)(\d{1,9})([.)])[ \t]+(\S.*)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_QUOTE = re.compile(r" {0,3}>[ ]?")
_RULE = re.compile(r" {0,3}(?:[-*_][ \t]*){3,}")
_FENCE = re.compile(r" {0,3}(?:`{3,}[^`]*|~{3,}[^~]*)")
# "[label](": a bounded repeat of a class that excludes its closing sign, so no backtracking; the address is
# then found with str.find, at most MAX_LINK_CHARS further.
_LINK_LABEL = re.compile(r"\[([^\]\n]{0,500})\]\(")
MAX_LINK_CHARS = 2000
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_AUTOLINK = re.compile(r"<(https?://[^>\s]{1,2000})>")
_BARE_URL = re.compile(r"https?://[^\s<>()\[\]\"']{0,2000}")
_URL_TAIL = ".,;:!?*_~"  # signs that end a sentence or a mark, not the address (as GitHub reads it)
_SAFE_HREF = re.compile(r"https?://[^\s\"'<>]+|tel:\+?\d[\d .-]{0,30}|mailto:[^\s@\"'<>]+@[^\s@\"'<>]+", re.I)


@dataclass(frozen=True)
class Strong:
    """Bold words (``**...**``)."""

    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Emphasis:
    """Words in italics (``_..._`` or ``*...*``)."""

    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Link:
    """A link to a safe address (http(s), tel, mailto); a bare address is a link whose text is the address."""

    text: str
    href: str


Inline = str | Strong | Emphasis | Link
Line = tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    """Lines shown together, one under the other."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class ListBlock:
    """A bullet or numbered list; each item holds its own blocks (lines, and lists nested under it)."""

    ordered: bool
    start: int
    items: tuple[tuple[Block, ...], ...]
    delimiter: str = "."


Block = Paragraph | ListBlock


def safe_href(url: str) -> str | None:
    """The address when a link to it may be followed from a reply (http(s), tel, mailto), else None."""
    return url if _SAFE_HREF.fullmatch(url) else None


# --- Reading ---------------------------------------------------------------------------------------------


def parse(text: str) -> tuple[Block, ...]:
    """The reply's blocks: paragraphs and lists of inline parts."""
    lines = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _blocks([line.expandtabs(4) for line in lines], 0)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blocks(lines: list[str], depth: int) -> tuple[Block, ...]:
    blocks: list[Block] = []
    paragraph: list[Line] = []
    items: list[tuple[Block, ...]] = []
    kind: tuple[bool, int, str] | None = None  # the open list: ordered, start, delimiter

    def close_paragraph() -> None:
        if paragraph:
            blocks.append(Paragraph(tuple(paragraph)))
            paragraph.clear()

    def close_list() -> None:
        nonlocal kind
        if kind is not None and items:
            blocks.append(ListBlock(kind[0], kind[1], tuple(items), kind[2]))
        items.clear()
        kind = None

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or _RULE.fullmatch(line) or _FENCE.fullmatch(line):
            close_paragraph()
            close_list()
            continue
        bullet, ordered = _BULLET.fullmatch(line), _ORDERED.fullmatch(line)
        if bullet or ordered:
            close_paragraph()
            found = bullet or ordered
            assert found is not None
            indent, content = len(found.group(1)), found.group(found.lastindex or 0)
            offset = found.start(found.lastindex or 0)
            body = [content]
            while index < len(lines) and lines[index].strip() and _indent(lines[index]) >= indent + 2:
                body.append(lines[index][min(_indent(lines[index]), offset):])
                index += 1
            this = (True, int(found.group(2)), found.group(3)) if ordered else (False, 1, "")
            if kind is None or kind[0] != this[0]:
                close_list()
                kind = this
            if depth < MAX_DEPTH:
                items.append(_blocks(body, depth + 1))
            else:
                items.append((Paragraph(tuple(_inline(part.strip()) for part in body)),))
            continue
        close_list()
        heading = _HEADING.match(line)
        if heading:
            close_paragraph()
            words = _inline(line[heading.end():].strip().rstrip("#").strip())
            if words:
                blocks.append(Paragraph(((Strong(words),),)))
            continue
        quote = _QUOTE.match(line)
        if quote:
            line = line[quote.end():]
        paragraph.append(_inline(line.strip()))
    close_paragraph()
    close_list()
    return tuple(blocks)


@dataclass
class _Delimiter:
    """A run of '*', '_' or '~~' that may open or close emphasis."""

    char: str
    length: int
    can_open: bool
    can_close: bool
    partner: int = -1  # index of the paired token; -1 while unpaired
    opens: bool = False


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _is_punctuation(char: str) -> bool:
    return char in _PUNCTUATION or unicodedata.category(char)[0] in "PS"


def _flanking(char: str, before: str, after: str) -> tuple[bool, bool]:
    """Whether a run of marks may open and close emphasis, by CommonMark's flanking rules."""
    left = not after.isspace() and (not _is_punctuation(after) or before.isspace() or _is_punctuation(before))
    right = not before.isspace() and (not _is_punctuation(before) or after.isspace() or _is_punctuation(after))
    if char == "_":
        return left and (not right or _is_punctuation(before)), right and (not left or _is_punctuation(after))
    return left, right


def _inline(text: str) -> Line:
    """One line's inline parts: text, bold, italics and links."""
    tokens = _tokens(text)
    _pair(tokens)
    return _tree(tokens)


def _tokens(text: str) -> list[str | Link | _Delimiter]:
    tokens: list[str | Link | _Delimiter] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            tokens.append("".join(plain))
            plain.clear()

    size, at = len(text), 0
    while at < size:
        char = text[at]
        if char == "\\" and at + 1 < size and text[at + 1] in _PUNCTUATION:
            plain.append(text[at + 1])
            at += 2
        elif char == "`":
            end = text.find("`", at + 1)
            if end < 0:
                plain.append(text[at:])
                break
            plain.append(text[at + 1:end])
            at = end + 1
        elif char in "[!" and (link := _link(text, at + (char == "!"))):
            label, address, at = link
            href = safe_href(address) if char == "[" else None
            flush()
            tokens.append(Link(label or address, href) if href else label)
        elif char == "<" and (auto := _AUTOLINK.match(text, at)):
            flush()
            tokens.append(Link(auto.group(1), auto.group(1)))
            at = auto.end()
        elif char == "h" and text.startswith(("http://", "https://"), at) and (bare := _BARE_URL.match(text, at)):
            url = bare.group(0).rstrip(_URL_TAIL)
            if len(url) <= len("https://") or not safe_href(url):
                plain.append(char)
                at += 1
                continue
            flush()
            address = _ESCAPED.sub(r"\1", url)  # a backslash is never part of an address: text escaped as data
            tokens.append(Link(address, address))
            at += len(url)
        elif char in "*_~":
            end = at
            while end < size and text[end] == char:
                end += 1
            length = end - at
            before = text[at - 1] if at else " "
            after = text[end] if end < size else " "
            if (char == "~" and length != 2) or length > 2:
                plain.append(text[at:end])
            else:
                opens, closes = _flanking(char, before, after)
                if length == 1:  # a single sign inside a word (3*4, mes_droits) is the sign itself
                    opens, closes = opens and not _is_word(before), closes and not _is_word(after)
                flush()
                tokens.append(_Delimiter(char, length, opens, closes))
            at = end
        else:
            plain.append(char)
            at += 1
    flush()
    return tokens


def _link(text: str, at: int) -> tuple[str, str, int] | None:
    """A "[label](address "title")" at `at`: its label's words, its address and where it ends; None if it is not one.

    The address may hold one or two pairs of brackets (…/Sujet_(droit)); it is looked for with str.find, within
    MAX_LINK_CHARS, so that many unclosed "[a](" stay linear.
    """
    found = _LINK_LABEL.match(text, at)
    if not found:
        return None
    start = found.end()
    limit = min(len(text), start + MAX_LINK_CHARS)
    close = text.find(")", start, limit)
    depth = text.count("(", start, close) - text.count(")", start, close) if close >= 0 else 0
    for _ in range(3):
        if close < 0 or depth <= 0:
            break
        after = text.find(")", close + 1, limit)
        if after < 0:
            break
        depth += text.count("(", close + 1, after) - text.count(")", close + 1, after) - 1
        close = after
    inside = text[start:close].split() if close >= 0 else []
    if not inside:
        return None
    return _flat(_inline(found.group(1))), inside[0], close + 1


def _pair(tokens: list[str | Link | _Delimiter]) -> None:
    """Pair openers and closers of the same kind, innermost first; unpaired runs stay text (linear time)."""
    stack: list[int] = []
    bottom: dict[tuple[str, int], int] = {}  # below this height, no opener of that kind waits
    for index, token in enumerate(tokens):
        if not isinstance(token, _Delimiter):
            continue
        key = (token.char, token.length)
        if token.can_close:
            found = -1
            for height in range(len(stack) - 1, bottom.get(key, 0) - 1, -1):
                opener = tokens[stack[height]]
                assert isinstance(opener, _Delimiter)
                if (opener.char, opener.length) == key:
                    found = height
                    break
            if found >= 0:
                opener_index = stack[found]
                opener = tokens[opener_index]
                assert isinstance(opener, _Delimiter)
                opener.partner, opener.opens, token.partner = index, True, opener_index
                del stack[found:]
                for other in bottom:
                    bottom[other] = min(bottom[other], len(stack))
                continue
            bottom[key] = len(stack)
        if token.can_open:
            stack.append(index)


def _tree(tokens: list[str | Link | _Delimiter]) -> Line:
    """Nest the paired delimiters' contents; '~~' only drops its marks."""
    frames: list[tuple[_Delimiter | None, list[Inline]]] = [(None, [])]
    for token in tokens:
        if isinstance(token, _Delimiter) and token.partner >= 0 and token.opens:
            frames.append((token, []))
        elif isinstance(token, _Delimiter) and token.partner >= 0:
            opener, children = frames.pop()
            assert opener is not None
            inner = _merged(children)
            parent = frames[-1][1]
            if opener.char == "~":
                parent.extend(inner)
            elif inner:
                parent.append(Strong(inner) if opener.length == 2 else Emphasis(inner))
        elif isinstance(token, _Delimiter):
            frames[-1][1].append(token.char * token.length)
        else:
            frames[-1][1].append(token)
    return _merged(frames[0][1])


def _merged(parts: Iterable[Inline]) -> Line:
    """Adjacent strings joined, empty ones dropped."""
    out: list[Inline] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return tuple(out)


def _flat(line: Line, link_text: Callable[[Link], str] | None = None) -> str:
    """The words of a line without marks; a link gives its text, or what link_text says."""
    out: list[str] = []
    for part in line:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Link):
            out.append(link_text(part) if link_text else part.text)
        else:
            out.append(_flat(part.children, link_text))
    return "".join(out)


# --- Plain text (SMS, summaries, what screen readers hear) -------------------------------------------------


def plain_lines(blocks: Iterable[Block], link_text: Callable[[Link], str] | None = None) -> list[str]:
    """The reply as lines of plain text: list items keep '- ' or their number, blank lines are dropped."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines.extend(_flat(line, link_text) for line in block.lines)
            continue
        for number, item in enumerate(block.items, block.start):
            marker = f"{number}{block.delimiter} " if block.ordered else "- "
            inner = plain_lines(item, link_text) or [""]
            lines.append(marker + inner[0])
            lines.extend(inner[1:])
    normalized = (re.sub(r"[ \t]+", " ", line).strip() for line in lines)
    return [line for line in normalized if line]


def plain_text(text: str, link_text: Callable[[Link], str] | None = None) -> str:
    """The reply without Markdown, one line per line; links as link_text says (their text by default)."""
    return "\n".join(plain_lines(parse(text), link_text))


# --- HTML (the agents' console) -----------------------------------------------------------------------------


def _inline_html(line: Line) -> str:
    out: list[str] = []
    for part in line:
        if isinstance(part, str):
            out.append(html.escape(part, quote=True))
        elif isinstance(part, Link):
            new_tab = ' target="_blank" rel="noopener noreferrer"' if part.href.lower().startswith("http") else ""
            out.append(f'<a href="{html.escape(part.href, quote=True)}"{new_tab}>{html.escape(part.text)}</a>')
        else:
            tag = "strong" if isinstance(part, Strong) else "em"
            out.append(f"<{tag}>{_inline_html(part.children)}</{tag}>")
    return "".join(out)


def _blocks_html(blocks: Iterable[Block], tight: bool = False) -> str:
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if isinstance(block, Paragraph):
            lines = "<br>".join(_inline_html(line) for line in block.lines)
            if tight:
                out.append(("<br>" if isinstance(previous, Paragraph) else "") + lines)
            else:
                out.append(f"<p>{lines}</p>")
        else:
            tag = "ol" if block.ordered else "ul"
            start = f' start="{block.start}"' if block.ordered and block.start != 1 else ""
            inner = "".join(f"<li>{_blocks_html(item, tight=True)}</li>" for item in block.items)
            out.append(f"<{tag}{start}>{inner}</{tag}>")
        previous = block
    return "".join(out)


def to_html(text: str) -> str:
    """The reply as HTML safe to put in a page: every text escaped, only p, br, ul, ol, li, strong, em and a."""
    return _blocks_html(parse(text))


# --- Parts (the web widget) -------------------------------------------------------------------------------


def _inline_json(line: Line) -> list[Any]:
    out: list[Any] = []
    for part in line:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Link):
            out.append({"type": "link", "text": part.text, "href": part.href})
        else:
            kind = "strong" if isinstance(part, Strong) else "em"
            out.append({"type": kind, "children": _inline_json(part.children)})
    return out


def _blocks_json(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append({"type": "paragraph", "lines": [_inline_json(line) for line in block.lines]})
        else:
            out.append({"type": "list", "ordered": block.ordered, "start": block.start,
                        "items": [_blocks_json(item) for item in block.items]})
    return out


def to_parts(text: str) -> list[dict[str, Any]]:
    """The reply as JSON-ready parts for the widget.

    A block is ``{"type": "paragraph", "lines": [[inline, ...], ...]}`` or ``{"type": "list", "ordered": bool,
    "start": int, "items": [[block, ...], ...]}``; an inline is a string (text), ``{"type": "strong"|"em",
    "children": [inline, ...]}`` or ``{"type": "link", "text": str, "href": str}`` (http(s), tel or mailto only).
    """
    return _blocks_json(parse(text))


__all__ = [
    "Block", "Emphasis", "Inline", "Line", "Link", "ListBlock", "Paragraph", "Strong",
    "parse", "plain_lines", "plain_text", "safe_href", "to_html", "to_parts",
]
