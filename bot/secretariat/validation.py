"""Input rules for the secretariat API: what a question, a report or a commune may look like."""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_LENGTH = 300
MAX_REPORT_LENGTH = 2000
MIN_REPORT_LENGTH = 5
PROCEDURE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class InvalidInputError(ValueError):
    """Input the API refuses, with a machine code and a French sentence for the page."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def clean_text(text: str) -> str:
    """Text without control characters (kept: line breaks), with runs of spaces collapsed."""
    kept = "".join(c for c in text if c == "\n" or not unicodedata.category(c).startswith("C"))
    return "\n".join(" ".join(line.split()) for line in kept.strip().splitlines()).strip()


def clean_question(raw: str | None) -> str:
    """A question fit for ranking, or InvalidInputError (empty, too long)."""
    question = " ".join(clean_text(raw or "").split())
    if not question:
        raise InvalidInputError("empty_question", "Écrivez une question (le paramètre q est vide).")
    if len(question) > MAX_QUESTION_LENGTH:
        raise InvalidInputError(
            "question_too_long", f"La question est trop longue : {MAX_QUESTION_LENGTH} caractères au plus."
        )
    return question


def clean_report(raw: object) -> str:
    """The text of an error report, or InvalidInputError."""
    if not isinstance(raw, str):
        raise InvalidInputError("invalid_message", "Décrivez l'erreur dans le champ message (texte).")
    message = clean_text(raw)
    if len(message) < MIN_REPORT_LENGTH:
        raise InvalidInputError("message_too_short", f"Décrivez l'erreur en {MIN_REPORT_LENGTH} caractères au moins.")
    if len(message) > MAX_REPORT_LENGTH:
        raise InvalidInputError("message_too_long", f"Message trop long : {MAX_REPORT_LENGTH} caractères au plus.")
    return message


def check_procedure_id(raw: object) -> str:
    """A syntactically valid procedure id, or InvalidInputError."""
    if not isinstance(raw, str) or not PROCEDURE_ID.match(raw):
        raise InvalidInputError("invalid_procedure_id", "Identifiant de fiche invalide (minuscules, chiffres, _).")
    return raw


def parse_limit(raw: str | None, default: int = 3, maximum: int = 10) -> int:
    """The number of answers asked for, between 1 and maximum."""
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidInputError("invalid_limit", f"limit doit être un entier entre 1 et {maximum}.")
    return int(raw)


def clean_need_comment(raw: object) -> str:
    """The optional comment of a 'signaler un besoin' (may be empty), or InvalidInputError."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInputError("invalid_comment", "La précision doit être du texte.")
    comment = clean_text(raw)
    if len(comment) > MAX_REPORT_LENGTH:
        raise InvalidInputError("comment_too_long", f"Précision trop longue : {MAX_REPORT_LENGTH} caractères au plus.")
    return comment
