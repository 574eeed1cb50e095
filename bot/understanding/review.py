"""Learning from use, safely: a content editor reviews the messages the bot did not understand, then adds some.

    python -m bot.understanding.review list [--since 2026-12-01] [--limit 50] [--json]
    python -m bot.understanding.review add ID --intent procedure_passport [--text "corrected wording"]

`list` reads the conversation events (the event broker's, in the project database; or a tracker store with
--tracker-url) and shows the messages that ended
in a fallback ("not understood") or just before a handoff to a person, masked (phone numbers, e-mail
addresses), grouped, with what the model guessed and which proposal the person chose, if any. `add` puts
one reviewed message into data/nlu/reviewed.yml under the intent the editor chose; the model learns it at
the next `make train`. Nothing is ever added automatically, and a message that is already in the training
data, or close to a message of the evaluation sets, is refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz

from bot.paths import PROJECT_ROOT
from bot.privacy import EMAIL_MASK, PHONE_MASK
from bot.secretariat.keywords import normalise
from bot.secretariat.usage import (
    LOCAL_TIME,
    TrackerEvent,
    TrackerUnavailableError,
    mask_personal_data,
    read_events,
)

FALLBACK_INTENT = "nlu_fallback"
HANDOFF_ACTIONS = frozenset({"action_request_human"})
# Messages that say nothing about the question itself: they are not what the bot failed to understand.
CONVERSATION_INTENTS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help_menu", "stop",
    "request_human", "request_callback",
})
MAX_TEXT_CHARS = 300
REVIEWED_FILE = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
# Validation and test sets: a message close to one of theirs would make their figures lie.
EVALUATION_FILES = (PROJECT_ROOT / "tests" / "nlu" / "heldout.yml", PROJECT_ROOT / "tests" / "nlu" / "test_set.yml")
NEAR_COPY_RATIO = 90.0
REVIEWED_HEADER = (
    "# Messages of real conversations, reviewed by a content editor and added with\n"
    "# `python -m bot.understanding.review add` (never automatically). Masked; one block per intent.\n"
)


class ReviewError(ValueError):
    """A message cannot be added (unknown id or intent, duplicate, personal data, close to an evaluation set)."""


@dataclass
class ReviewItem:
    """One message to review, with how often it came and what happened."""

    id: str
    text: str
    reasons: list[str] = field(default_factory=list)
    count: int = 0
    last_seen: str = ""
    model_guess: str | None = None
    chosen: str | None = None


def message_id(text: str) -> str:
    """A short stable id for a masked message (the same words give the same id)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()[:8]


def _text(event: TrackerEvent) -> str:
    return str(event.data.get("text") or "")


def _intent(event: TrackerEvent) -> str | None:
    parse_data = event.data.get("parse_data") or {}
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    name = intent.get("name") if isinstance(intent, dict) else None
    return event.intent_name or name


def _model_guess(event: TrackerEvent) -> str | None:
    """The best intent other than the fallback: what the model would have answered."""
    parse_data = event.data.get("parse_data") or {}
    ranking = parse_data.get("intent_ranking") if isinstance(parse_data, dict) else None
    for entry in ranking or []:
        if isinstance(entry, dict) and entry.get("name") and entry["name"] != FALLBACK_INTENT:
            return str(entry["name"])
    intent = _intent(event)
    return intent if intent != FALLBACK_INTENT else None


def _is_question(event: TrackerEvent) -> bool:
    """A message the person typed about their need (not a button payload, not a greeting or a yes)."""
    text = _text(event).strip()
    return event.type_name == "user" and bool(text) and not text.startswith("/") and (
        _intent(event) not in CONVERSATION_INTENTS)


def review_items(events: Iterable[TrackerEvent]) -> list[ReviewItem]:
    """Messages that ended in a fallback or came just before a handoff, grouped, most frequent first."""
    items: dict[str, ReviewItem] = {}
    sender: str | None = None
    last_question: TrackerEvent | None = None
    pending_fallback: ReviewItem | None = None

    def record(event: TrackerEvent, reason: str) -> ReviewItem:
        text = mask_personal_data(_text(event))[:MAX_TEXT_CHARS]
        key = message_id(text)
        item = items.setdefault(key, ReviewItem(key, text))
        if reason not in item.reasons:
            item.reasons.append(reason)
        return item

    def seen(item: ReviewItem, event: TrackerEvent) -> None:
        item.count += 1
        item.last_seen = max(item.last_seen, datetime.fromtimestamp(event.timestamp, LOCAL_TIME).date().isoformat())
        item.model_guess = item.model_guess or _model_guess(event)

    for event in events:
        if event.sender_id != sender:
            sender, last_question, pending_fallback = event.sender_id, None, None
        if event.type_name == "user":
            text = _text(event).strip()
            if pending_fallback is not None and text.startswith("/procedure_"):
                pending_fallback.chosen = text.removeprefix("/").split("{")[0]  # a proposal chosen
            pending_fallback = None
            if _intent(event) == FALLBACK_INTENT and _is_question(event):
                pending_fallback = record(event, "fallback")
                seen(pending_fallback, event)
                last_question = None  # counted once, even if a handoff follows
            elif _is_question(event):
                last_question = event
        elif event.type_name == "action" and event.action_name in HANDOFF_ACTIONS and last_question is not None:
            seen(record(last_question, "handoff"), last_question)
            last_question = None
        elif event.type_name == "action" and event.action_name == "action_session_start":
            last_question, pending_fallback = None, None
    return sorted(items.values(), key=lambda item: (-item.count, item.last_seen, item.id))


def list_items(tracker_url: str | None = None, since: date | None = None, limit: int = 50) -> list[ReviewItem]:
    """The review list from the conversation events (project database by default)."""
    return review_items(read_events(tracker_url, since=since))[:limit]


def known_intents(domain_file: Path = DOMAIN_FILE) -> list[str]:
    """The intents of the domain (a reviewed message can only go to one of them)."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in domain.get("intents", [])]


def _examples(path: Path) -> list[str]:
    """The example texts of a Rasa NLU file (entity markup left as is: it only matters for duplicates)."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    texts = []
    for block in content.get("nlu", []) or []:
        if isinstance(block, dict) and "intent" in block:
            texts += [line.strip().removeprefix("- ") for line in str(block.get("examples") or "").splitlines()]
    return [text for text in texts if text]


def check_addable(text: str, intent: str, *, training_dir: Path | None = None,
                  evaluation_files: Sequence[Path] | None = None, domain_file: Path | None = None) -> str:
    """The cleaned text if it may go to the training data of this intent; ReviewError saying why not."""
    training_dir = TRAINING_DIR if training_dir is None else training_dir
    evaluation_files = EVALUATION_FILES if evaluation_files is None else evaluation_files
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ReviewError("Le message est vide.")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise ReviewError(f"Le message dépasse {MAX_TEXT_CHARS} caractères : raccourcissez-le avec --text.")
    if PHONE_MASK in cleaned or EMAIL_MASK in cleaned or mask_personal_data(cleaned) != cleaned:
        raise ReviewError("Le message contient des données personnelles : réécrivez-le sans elles avec --text.")
    if intent not in known_intents(DOMAIN_FILE if domain_file is None else domain_file):
        raise ReviewError(f"Intention inconnue : {intent} (voir domain.yml).")
    wanted = normalise(cleaned)
    for path in sorted(training_dir.rglob("*.yml")):
        if any(normalise(example) == wanted for example in _examples(path)):
            raise ReviewError(f"Ce message est déjà dans les données d'entraînement ({path.name}).")
    for path in evaluation_files:
        for example in _examples(path):
            normalised = normalise(example)
            if max(fuzz.ratio(wanted, normalised), fuzz.token_sort_ratio(wanted, normalised)) >= NEAR_COPY_RATIO:
                raise ReviewError(f"Ce message est trop proche d'un message d'évaluation ({path.name}) : "
                                  "l'ajouter fausserait les mesures.")
    return cleaned


def add_example(text: str, intent: str, reviewed_file: Path | None = None, **checks: Any) -> str:
    """Add one reviewed message to the training data of an intent; returns the text written."""
    reviewed_file = REVIEWED_FILE if reviewed_file is None else reviewed_file
    cleaned = check_addable(text, intent, **checks)
    content: dict[str, Any] = {}
    if reviewed_file.exists():
        content = yaml.safe_load(reviewed_file.read_text(encoding="utf-8")) or {}
    by_intent: dict[str, list[str]] = {}
    for block in content.get("nlu", []) or []:
        by_intent.setdefault(block["intent"], []).extend(
            line.strip().removeprefix("- ") for line in str(block.get("examples") or "").splitlines() if line.strip())
    by_intent.setdefault(intent, []).append(cleaned)
    body = 'version: "3.1"\nnlu:\n' + "".join(
        f"- intent: {name}\n  examples: |\n" + "".join(f"    - {example}\n" for example in examples)
        for name, examples in sorted(by_intent.items()))
    reviewed_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = reviewed_file.with_suffix(".yml.tmp")
    temporary.write_text(REVIEWED_HEADER + body, encoding="utf-8")
    temporary.replace(reviewed_file)  # never a half-written training file
    return cleaned


def render_items(items: list[ReviewItem]) -> str:
    """The review list for a terminal."""
    if not items:
        return "Aucun message à revoir."
    lines = [f"{len(items)} message(s) à revoir (masqués). Ajouter : python -m bot.understanding.review add ID "
             "--intent INTENTION", ""]
    for item in items:
        hints = [f"{item.count} fois", ", ".join(item.reasons), f"dernier : {item.last_seen}"]
        if item.model_guess:
            hints.append(f"modèle : {item.model_guess}")
        if item.chosen:
            hints.append(f"choisi : {item.chosen}")
        lines.append(f"{item.id}  {item.text}\n          ({'; '.join(hints)})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The review CLI: list, then add one message after review."""
    parser = argparse.ArgumentParser(prog="python -m bot.understanding.review", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker-url", help="read a tracker store instead (default: the project database's events)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="messages that ended in a fallback or a handoff, masked")
    listing.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    adding = commands.add_parser("add", help="add one reviewed message to the training data of an intent")
    adding.add_argument("id", nargs="?", help="the id shown by `list`")
    adding.add_argument("--intent", required=True, help="e.g. procedure_passport (see domain.yml)")
    adding.add_argument("--text", help="the wording to add instead of the stored one (e.g. without a name)")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            items = list_items(args.tracker_url, args.since, args.limit)
            print(json.dumps([asdict(i) for i in items], ensure_ascii=False, indent=2) if args.json
                  else render_items(items))
            return 0
        text = args.text
        if text is None:
            if not args.id:
                raise ReviewError("Donnez l'identifiant affiché par `list`, ou le texte avec --text.")
            found = [item for item in list_items(args.tracker_url, limit=10**6) if item.id == args.id]
            if not found:
                raise ReviewError(f"Aucun message {args.id} dans la liste à revoir.")
            text = found[0].text
        written = add_example(text, args.intent)
    except (TrackerUnavailableError, ReviewError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    print(f"Ajouté à {REVIEWED_FILE} ({args.intent}) : {written}\n"
          "Le modèle l'apprendra au prochain `make train`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
