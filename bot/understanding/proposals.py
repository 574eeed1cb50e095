"""When the model is unsure: the two or three procedures most likely meant, to offer as choices.

The model's intent ranking is blended with the keyword index the secretariat already uses (titles,
keywords and summaries of the knowledge base), so a message the model hesitates on still finds the
procedure whose words it uses ("témoins d'un mariage" -> marriage). Nothing chosen is learnt: a choice
only answers the question; adding a message to the training data is a reviewed, manual step
(bot.understanding.review).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from bot.knowledge import get_knowledge_base
from bot.knowledge.model import Procedure
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, OTHER_BUTTON, Button, Reply
from bot.secretariat.ranking import keyword_index

PROCEDURE_PREFIX = "procedure_"
# Weights and floor chosen on the validation set (tests/nlu/heldout.yml) with bench.nlu_eval: see docs/nlu.md.
NLU_WEIGHT = 0.6
MIN_SCORE = 0.04
MAX_TEXT_CHARS = 600  # the keyword index does fuzzy matching per word: bound the work

REPHRASE = Reply(
    "Je n'ai pas bien compris. Pouvez-vous le dire autrement, en quelques mots ? "
    "Par exemple : « carte d'identité perdue » ou « aide au logement ».",
    [MENU_BUTTON, HUMAN_BUTTON],
)
logger = logging.getLogger(__name__)

PROPOSALS_TEXT = (
    "Je ne suis pas sûr d'avoir compris. Votre question porte-t-elle sur l'une de ces démarches ? "
    "Sinon, écrivez-la autrement."
)


def _procedure_confidences(intent_ranking: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Procedure id -> model confidence, renormalised over the procedures the ranking lists."""
    found: dict[str, float] = {}
    for entry in intent_ranking:
        name = str(entry.get("name") or "")
        try:
            confidence = float(entry.get("confidence") or 0.0)
        except (TypeError, ValueError):
            continue
        if name.startswith(PROCEDURE_PREFIX) and confidence > 0:
            procedure_id = name.removeprefix(PROCEDURE_PREFIX)
            found[procedure_id] = max(found.get(procedure_id, 0.0), confidence)
    total = sum(found.values())
    return {pid: value / total for pid, value in found.items()} if total > 0 else {}


def propose_procedures(text: str, intent_ranking: list[dict], limit: int = 3) -> list[str]:
    """Procedure ids worth offering for an unsure message, best first (empty when nothing stands out)."""
    if limit <= 0:
        return []
    knowledge_base = get_knowledge_base()
    nlu = _procedure_confidences(intent_ranking)
    keywords = keyword_index(knowledge_base).scores((text or "")[:MAX_TEXT_CHARS])
    scored: list[tuple[float, str]] = []
    for procedure in knowledge_base:
        score = NLU_WEIGHT * nlu.get(procedure.id, 0.0) + (1 - NLU_WEIGHT) * keywords.get(procedure.id, 0.0)
        if score >= MIN_SCORE:
            scored.append((score, procedure.id))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [procedure_id for _, procedure_id in scored[:limit]]


def procedure_button(procedure: Procedure) -> Button:
    """The choice that answers a procedure: its title, and the payload of its intent."""
    return Button(procedure.title, f"/{procedure.intent}")


def proposals_reply(procedure_ids: Iterable[str]) -> Reply | None:
    """The reply offering these procedures, "Autre chose" and a person; None when there is none to offer."""
    knowledge_base = get_knowledge_base()
    procedures = [p for p in (knowledge_base.get(pid) for pid in procedure_ids) if p is not None]
    if not procedures:
        return None
    return Reply(PROPOSALS_TEXT, [*(procedure_button(p) for p in procedures), OTHER_BUTTON, HUMAN_BUTTON])


def unsure_reply(message: dict[str, Any]) -> Reply:
    """The likely procedures as choices when some stand out, otherwise the request to rephrase."""
    try:
        reply = proposals_reply(propose_procedures(message.get("text") or "", message.get("intent_ranking") or []))
    except Exception as exc:  # the proposals are a help: never let them break the answer
        logger.warning("No proposals for an unsure message (%s).", type(exc).__name__)
        reply = None
    return reply or REPHRASE
