"""Load and validate the procedure files; fail loudly with the file and entry at fault."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.gsm7 import is_gsm7
from bot.knowledge.contacts import dates_to_text, source_from_dict
from bot.knowledge.model import Case, Link, Procedure
from bot.knowledge.schema import PROCEDURE_SCHEMA, schema_problems, sound_entries
from bot.paths import PROCEDURES_DIR


class KnowledgeError(ValueError):
    """A procedure file or entry that does not follow data/knowledge/README.md."""


def _problems(entry: Any) -> list[str]:
    """Every way an entry breaks the schema or the SMS rules, in words."""
    entry = dates_to_text(entry)
    problems = schema_problems(jsonschema.Draft7Validator(PROCEDURE_SCHEMA), entry)
    if isinstance(entry, dict) and isinstance(entry.get("sms"), str) and not is_gsm7(entry["sms"]):
        problems.append("sms: contains characters outside GSM-7")
    for index, case in enumerate(entry.get("cases") or [] if isinstance(entry, dict) else []):
        if isinstance(case, dict) and isinstance(case.get("sms"), str) and not is_gsm7(case["sms"]):
            problems.append(f"cases/{index}/sms: contains characters outside GSM-7")
    return problems


def _flat(text: str) -> str:
    return " ".join(text.split())


def _to_procedure(entry: dict[str, Any], source_file: str) -> Procedure:
    entry = dates_to_text(entry)
    return Procedure(
        id=entry["id"],
        title=entry["title"],
        theme=entry["theme"],
        keywords=tuple(entry["keywords"]),
        summary=_flat(entry["summary"]),
        steps=tuple(entry["steps"]),
        documents=tuple(entry["documents"]),
        cost=entry["cost"],
        delay=entry["delay"],
        links=tuple(Link(link["title"], link["url"]) for link in entry["links"]),
        offline=_flat(entry["offline"]),
        where=tuple(entry["where"]),
        sms=_flat(entry["sms"]),
        written=date.fromisoformat(entry["written"]),
        review_by=date.fromisoformat(entry["review_by"]),
        verified=date.fromisoformat(entry["verified"]) if entry.get("verified") else None,
        sources=tuple(source_from_dict(raw) for raw in entry["sources"]),
        cases=tuple(
            Case(id=case["id"], title=case["title"], when=tuple(case["when"]), answer=_flat(case["answer"]),
                 sources=tuple(case["sources"]), sms=_flat(case.get("sms") or ""),
                 ages=(case["ages"][0], case["ages"][1]) if case.get("ages") else None,
                 situations=tuple(case.get("situations") or ()))
            for case in entry.get("cases") or []
        ),
        source_file=source_file,
    )


def load_procedures(files: Iterable[Path]) -> dict[str, Procedure]:
    """Read procedure files into a dict by id; raise KnowledgeError listing every problem found."""
    procedures: dict[str, Procedure] = {}
    errors: list[str] = []
    for path in sorted(files):
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML ({exc})")
            continue
        if not isinstance(entries, list):
            errors.append(f"{path.name}: must be a list of procedures")
            continue
        for label, entry in sound_entries(path.name, entries, _problems, errors):
            if entry["id"] in procedures:
                errors.append(f"{label}: duplicate id (also in {procedures[entry['id']].source_file})")
                continue
            procedures[entry["id"]] = _to_procedure(entry, path.name)
    if errors:
        raise KnowledgeError("\n".join(errors))
    return procedures


class KnowledgeBase:
    """All procedures, looked up by id or by NLU intent."""

    def __init__(self, procedures: dict[str, Procedure]) -> None:
        self._procedures = procedures

    def __len__(self) -> int:
        return len(self._procedures)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._procedures.values())

    def get(self, procedure_id: str) -> Procedure | None:
        """The procedure with this id, or None."""
        return self._procedures.get(procedure_id)

    def by_intent(self, intent: str | None) -> Procedure | None:
        """The procedure an NLU intent asks for (procedure_<id>), or None."""
        if not intent or not intent.startswith("procedure_"):
            return None
        return self.get(intent.removeprefix("procedure_"))


@functools.lru_cache(maxsize=1)
def get_knowledge_base(directory: Path = PROCEDURES_DIR) -> KnowledgeBase:
    """The project's knowledge base, loaded once per process."""
    return KnowledgeBase(load_procedures(directory.glob("*.yml")))
