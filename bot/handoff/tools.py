"""What saves agents time: canned answers (kept by admins), internal notes, and a procedure put into words for the
person's channel (from the knowledge base: the one source of truth)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata
from bot.gsm7 import to_gsm7
from bot.handoff.store import project_engine, utcnow
from bot.knowledge.contacts import get_contacts

notes_table = Table(
    "handoff_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author", String(64), nullable=False),  # the agent's display name
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

canned_table = Table(
    "handoff_canned_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

MAX_NOTE_CHARS = 2000
MAX_CANNED_TITLE = 80
MAX_CANNED_TEXT = 1500
VARIABLES = {
    "commune": "la commune de la personne",
    "france_services": "l'espace France Services le plus proche de sa commune (adresse, téléphone, horaires du jour)",
    "agent": "votre nom affiché",
}
_VARIABLE = re.compile(r"\{([a-z_]{1,30})\}")
NO_COMMUNE = "votre commune"
NO_FRANCE_SERVICES = ("l'espace France Services le plus proche de chez vous (liste sur "
                      f"{get_contacts()['france_services'].url})")  # data/knowledge/contacts.yml


class ToolError(ValueError):
    """Input an agent can correct (empty text, unknown variable, too long); the message is in French."""


@dataclass(frozen=True)
class Note:
    """Something an agent wrote for the team about a conversation; never sent to the person."""

    id: int
    request_id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class CannedAnswer:
    """A ready-made answer with variables such as {commune}."""

    id: int
    title: str
    text: str
    updated_by: str
    updated_at: datetime


def check_canned(title: str, text: str) -> tuple[str, str]:
    """A title and a text that may be saved; ToolError otherwise (in French)."""
    title, text = " ".join(title.split()), text.strip()
    if not title or not text:
        raise ToolError("Donnez un titre et un texte à la réponse type.")
    if len(title) > MAX_CANNED_TITLE or len(text) > MAX_CANNED_TEXT:
        raise ToolError(f"Titre de {MAX_CANNED_TITLE} caractères et texte de {MAX_CANNED_TEXT} caractères au plus.")
    unknown = sorted(set(_VARIABLE.findall(text)) - set(VARIABLES))
    if unknown:
        known = ", ".join("{" + name + "}" for name in VARIABLES)
        raise ToolError(f"Variable inconnue : {{{unknown[0]}}}. Variables possibles : {known}.")
    return title, text


def fill_variables(text: str, commune: str | None, agent: str, france_services: str | None = None) -> str:
    """The canned text for this conversation; a variable we cannot fill gets a general wording, never a blank."""
    values = {
        "commune": commune or NO_COMMUNE,
        "france_services": france_services or NO_FRANCE_SERVICES,
        "agent": agent,
    }
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def france_services_for(commune: str | None) -> str | None:
    """The nearest France Services of the commune, in one sentence (None when unknown or outside the MEL)."""
    if not commune:
        return None
    try:
        from bot.places.render import france_services_sentence

        return france_services_sentence(commune)
    except Exception:  # the places data may be missing on a laptop: the general wording is used instead
        return None


def procedure_for_channel(procedure_id: str, channel: str) -> str | None:
    """A procedure in a few lines for the person: what it is, the official link, the way without the Internet;
    GSM-7 by SMS (so it costs the segments we counted, with no odd characters)."""
    from bot.knowledge import get_knowledge_base

    procedure = get_knowledge_base().get(procedure_id)
    if procedure is None:
        return None
    link = procedure.main_link
    if channel == "sms":
        # The entry's SMS text already names the procedure and (short) official link; add the link otherwise.
        bare_link = link.url.removeprefix("https://").removeprefix("http://").removeprefix("www.")
        official = "" if bare_link in procedure.sms else f" Site officiel : {link.url}"
        return to_gsm7(f"{procedure.sms}{official} Sans Internet : {procedure.offline}")
    return (f"**{procedure.title}**\n{procedure.summary}\n\n"
            f"Site officiel : [{link.title}]({link.url})\n\n"
            f"Sans Internet : {procedure.offline}")


def procedure_choices() -> list[tuple[str, str]]:
    """(id, title) of every procedure, by title, for the "insérer une démarche" list."""
    from bot.knowledge import get_knowledge_base

    return sorted(((p.id, p.title) for p in get_knowledge_base()), key=lambda item: item[1])


class DeskTools:
    """Notes and canned answers in the project database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)

    # ----- notes -----

    def add_note(self, request_id: int, author: str, text: str, now: datetime | None = None) -> Note:
        """Keep a note for the team; ToolError when empty or too long."""
        text = text.strip()
        if not text:
            raise ToolError("Écrivez la note avant de l'enregistrer.")
        if len(text) > MAX_NOTE_CHARS:
            raise ToolError(f"Une note fait {MAX_NOTE_CHARS} caractères au plus.")
        with self.engine.begin() as conn:
            result = conn.execute(insert(notes_table).values(request_id=request_id, author=author, text=text,
                                                             created_at=now or utcnow()))
            note_id = result.inserted_primary_key[0]
            row = conn.execute(select(notes_table).where(notes_table.c.id == note_id)).one()
        return Note(**dict(row._mapping))

    def notes(self, request_id: int) -> list[Note]:
        """The notes of a conversation, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(notes_table).where(notes_table.c.request_id == request_id)
                                .order_by(notes_table.c.id)).all()
        return [Note(**dict(row._mapping)) for row in rows]

    # ----- canned answers -----

    def canned_answers(self) -> list[CannedAnswer]:
        """Every canned answer, by title."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(canned_table).order_by(canned_table.c.title, canned_table.c.id)).all()
        return [CannedAnswer(**dict(row._mapping)) for row in rows]

    def canned(self, canned_id: int) -> CannedAnswer | None:
        """One canned answer."""
        with self.engine.connect() as conn:
            row = conn.execute(select(canned_table).where(canned_table.c.id == canned_id)).first()
        return CannedAnswer(**dict(row._mapping)) if row else None

    def save_canned(self, title: str, text: str, author: str, canned_id: int | None = None,
                    now: datetime | None = None) -> CannedAnswer | None:
        """Add (canned_id None) or change a canned answer; None when the one to change is gone."""
        title, text = check_canned(title, text)
        values = {"title": title, "text": text, "updated_by": author, "updated_at": now or utcnow()}
        with self.engine.begin() as conn:
            if canned_id is None:
                canned_id = conn.execute(insert(canned_table).values(**values)).inserted_primary_key[0]
            elif conn.execute(update(canned_table).where(canned_table.c.id == canned_id).values(**values)
                              ).rowcount != 1:
                return None
        return self.canned(int(canned_id))

    def delete_canned(self, canned_id: int) -> bool:
        """Remove a canned answer; False when it was already gone."""
        with self.engine.begin() as conn:
            return conn.execute(delete(canned_table).where(canned_table.c.id == canned_id)).rowcount == 1


__all__ = ["VARIABLES", "CannedAnswer", "DeskTools", "Note", "ToolError", "fill_variables", "procedure_for_channel"]
