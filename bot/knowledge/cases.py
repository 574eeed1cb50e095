"""Pick the sub-case of a procedure (minor, loss, renewal...) that the question names, to answer it first."""

from __future__ import annotations

import re
import unicodedata

from bot.knowledge.model import Case, Procedure

MAX_QUESTION_CHARS = 500  # a question longer than this is cut before matching (bounded work per message)


def normalise(text: str) -> str:
    """Lower case, no accents, apostrophes and punctuation as spaces: 'Mon fils a 16 ans' -> 'mon fils a 16 ans'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def _matches(question: str, phrase: str) -> bool:
    """Whole-word (or whole-phrase) match on normalised text."""
    wanted = normalise(phrase)
    return bool(wanted) and f" {wanted} " in f" {question} "


def select_case(procedure: Procedure, question: str | None) -> Case | None:
    """The case whose `when` words the question uses most (first in file order on a tie), or None."""
    if not question or not procedure.cases:
        return None
    text = normalise(question[:MAX_QUESTION_CHARS])
    best: Case | None = None
    best_score = 0
    for case in procedure.cases:
        score = sum(1 for phrase in case.when if _matches(text, phrase))
        if score > best_score:
            best, best_score = case, score
    return best
