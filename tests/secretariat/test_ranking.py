"""Ranking of secretariat questions: keyword score alone, and blended with the bot's NLU ranking."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge import get_knowledge_base
from bot.secretariat.keywords import normalise, tokens
from bot.secretariat.nlu import NluUnavailableError
from bot.secretariat.ranking import NLU_WEIGHT, rank_procedures

QUESTIONS = yaml.safe_load((Path(__file__).parent / "questions.yml").read_text(encoding="utf-8"))
KNOWN_IDS = {procedure.id for procedure in get_knowledge_base()}


class FixedNlu:
    """An intent ranker with a fixed answer."""

    def __init__(self, ranking: dict[str, float]) -> None:
        self.ranking = ranking

    async def intent_ranking(self, text: str) -> dict[str, float]:
        return self.ranking


class DownNlu:
    """A model server that does not answer."""

    async def intent_ranking(self, text: str) -> dict[str, float]:
        raise NluUnavailableError("connection refused")


def test_question_set_has_at_least_30_questions_on_existing_procedures() -> None:
    assert len(QUESTIONS) >= 30
    assert {item["expected"] for item in QUESTIONS} <= KNOWN_IDS


async def test_passport_question_for_a_minor_ranks_passport_first_without_model() -> None:
    ranking = await rank_procedures("pièces pour une première demande de passeport mineur", get_knowledge_base(), None)
    assert ranking.method == "keywords"
    assert ranking.answers[0].procedure.id == "passport"


async def test_keyword_ranking_alone_finds_nine_questions_in_ten() -> None:
    knowledge_base = get_knowledge_base()
    misses = []
    for item in QUESTIONS:
        ranking = await rank_procedures(item["q"], knowledge_base, None, limit=1)
        top = ranking.answers[0].procedure.id if ranking.answers else None
        if top != item["expected"]:
            misses.append((item["q"], item["expected"], top))
    assert len(misses) <= len(QUESTIONS) // 10, misses


async def test_model_ranking_outweighs_keywords_when_the_model_is_confident() -> None:
    nlu = FixedNlu({"procedure_identity_card": 0.95, "procedure_passport": 0.03})
    ranking = await rank_procedures("passeport", get_knowledge_base(), nlu)
    assert ranking.method == "nlu+keywords"
    assert ranking.nlu_intent == "procedure_identity_card"
    assert ranking.answers[0].procedure.id == "identity_card"
    assert ranking.answers[0].confidence == pytest.approx(NLU_WEIGHT * 0.95 + (1 - NLU_WEIGHT) *
                                                          ranking.answers[0].keyword_confidence, abs=1e-3)


async def test_model_down_falls_back_to_keywords() -> None:
    ranking = await rank_procedures("carte grise vente voiture", get_knowledge_base(), DownNlu())
    assert ranking.method == "keywords"
    assert ranking.answers[0].procedure.id == "vehicle_registration"


async def test_unrelated_question_returns_no_answer() -> None:
    ranking = await rank_procedures("zzzz qwerty", get_knowledge_base(), None)
    assert ranking.answers == []


async def test_confidences_are_sorted_and_within_zero_one() -> None:
    ranking = await rank_procedures("aide caf logement loyer", get_knowledge_base(), None, limit=5)
    values = [answer.confidence for answer in ranking.answers]
    assert values == sorted(values, reverse=True)
    assert all(0 <= value <= 1 for value in values)


def test_normalise_removes_accents_and_apostrophes() -> None:
    assert normalise("Carte d'Identité – Pré-demande") == "carte d identite pre demande"
    assert "identite" in tokens("ma carte d'identité")
