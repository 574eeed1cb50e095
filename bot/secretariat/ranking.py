"""Rank procedures for a secretariat question: the bot's NLU model blended with a keyword score."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.knowledge.loader import KnowledgeBase
from bot.knowledge.model import Procedure
from bot.secretariat.keywords import KeywordIndex
from bot.secretariat.nlu import NluUnavailableError

logger = logging.getLogger(__name__)

NLU_WEIGHT = 0.7
MIN_CONFIDENCE = 0.05
# Below these, a sheet is not shown to the secretary ("Aucune fiche ne correspond à cette question"):
# with the model, 0.35 needs the model to back the sheet (keywords alone give at most 0.3); keywords alone
# (model down) need two matching words or one title word and more (one word such as "perdu" gives 0.60).
SHOW_THRESHOLD = 0.35
KEYWORDS_ONLY_SHOW_THRESHOLD = 0.62


class IntentRanker(Protocol):
    """Anything that ranks intents for a text (the Rasa server, or a stub in tests)."""

    async def intent_ranking(self, text: str) -> dict[str, float]: ...


@dataclass(frozen=True)
class RankedProcedure:
    """A procedure with how sure we are that it answers the question."""

    procedure: Procedure
    confidence: float
    nlu_confidence: float | None
    keyword_confidence: float


@dataclass(frozen=True)
class Ranking:
    """The ranked answers and how they were obtained."""

    answers: list[RankedProcedure]
    method: str  # "nlu+keywords" or "keywords"
    nlu_intent: str | None


@functools.lru_cache(maxsize=4)
def keyword_index(knowledge_base: KnowledgeBase) -> KeywordIndex:
    """One index per loaded knowledge base (built in a few milliseconds, kept for the process)."""
    return KeywordIndex(knowledge_base)


async def rank_procedures(
    question: str, knowledge_base: KnowledgeBase, nlu: IntentRanker | None, limit: int = 3
) -> Ranking:
    """The best procedures for a question; keywords alone when the model server is down."""
    keyword_scores = keyword_index(knowledge_base).scores(question)
    nlu_scores: dict[str, float] | None = None
    if nlu is not None:
        try:
            nlu_scores = await nlu.intent_ranking(question)
        except NluUnavailableError as exc:
            logger.warning("NLU unavailable, ranking by keywords only: %s", exc)
    candidates: list[RankedProcedure] = []
    for procedure in knowledge_base:
        keyword = keyword_scores.get(procedure.id, 0.0)
        if nlu_scores is None:
            nlu_confidence, confidence = None, keyword
        else:
            nlu_confidence = nlu_scores.get(procedure.intent, 0.0)
            confidence = NLU_WEIGHT * nlu_confidence + (1 - NLU_WEIGHT) * keyword
        if confidence >= MIN_CONFIDENCE:
            candidates.append(RankedProcedure(procedure, round(confidence, 4), nlu_confidence, round(keyword, 4)))
    candidates.sort(key=lambda item: (-item.confidence, item.procedure.id))
    top_intent = max(nlu_scores, key=nlu_scores.__getitem__) if nlu_scores else None
    return Ranking(candidates[:limit], "keywords" if nlu_scores is None else "nlu+keywords", top_intent)


def show_threshold(ranking: Ranking) -> float:
    """The confidence a sheet needs to be shown, for how this ranking was obtained."""
    return KEYWORDS_ONLY_SHOW_THRESHOLD if ranking.method == "keywords" else SHOW_THRESHOLD


def confident_answers(ranking: Ranking) -> list[RankedProcedure]:
    """The answers sure enough to show; an empty list means no sheet answers the question."""
    threshold = show_threshold(ranking)
    return [answer for answer in ranking.answers if answer.confidence >= threshold]
