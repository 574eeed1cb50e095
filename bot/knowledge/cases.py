"""Pick the sub-case of a procedure (minor, loss, renewal...) that the question names, to answer it first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.knowledge.model import Case, Procedure
from bot.text import plain_words

if TYPE_CHECKING:
    from bot.knowledge.question import Question

MAX_QUESTION_CHARS = 500  # a question longer than this is cut before matching (bounded work per message)


def normalise(text: str) -> str:
    """Lower case, no accents, apostrophes and punctuation as spaces: 'Mon fils a 16 ans' -> 'mon fils a 16 ans'."""
    return plain_words(text)


def _matches(question: str, phrase: str) -> bool:
    """Whole-word (or whole-phrase) match on normalised text."""
    wanted = normalise(phrase)
    return bool(wanted) and f" {wanted} " in f" {question} "


def _score(case: Case, text: str, told: Question | None) -> int:
    """Words of `when` found, plus the age range and the situations told; -1 when the case contradicts them."""
    score = sum(1 for phrase in case.when if _matches(text, phrase))
    if told is None:
        return score
    if case.ages is not None and told.age is not None:
        if not case.covers_age(told.age):
            return -1
        score += 2
    situations = told.situations
    if ("minor" in case.situations and "adult" in situations) or ("adult" in case.situations and "minor" in situations):
        return -1
    return score + len(situations.intersection(case.situations))


def select_case(procedure: Procedure, question: str | None, told: Question | None = None) -> Case | None:
    """The case the question (and what was told before) points to most (first in file order on a tie), or None."""
    if not procedure.cases or (not question and (told is None or not told.situations)):
        return None
    text = normalise((question or "")[:MAX_QUESTION_CHARS])
    best: Case | None = None
    best_score = 0
    for case in procedure.cases:
        score = _score(case, text, told)
        if score > best_score:
            best, best_score = case, score
    return best
