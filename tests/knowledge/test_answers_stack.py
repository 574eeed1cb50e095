"""Over real HTTP, a question naming a sub-case gets that case first, with contacts and an honest date."""

from __future__ import annotations

import pytest

from bot.knowledge import get_knowledge_base
from tests.e2e.rest import all_text, new_sender, offers_a_person, say

pytestmark = pytest.mark.stack


def test_lost_card_and_child_passport_questions_get_their_case_first(stack) -> None:  # type: ignore[no-untyped-def]
    lost = say(stack.rest_url, new_sender(), "jai perdu ma carte d'identité")
    first = lost[0]["text"]
    assert "**Carte perdue ou volée** : En cas de perte ou de vol, la nouvelle carte coûte 25 €" in first
    text = all_text(lost)
    assert "le site de l'ANTS" in text and "{name:" not in text and "{contact:" not in text  # from contacts.yml
    card = get_knowledge_base().by_intent("procedure_identity_card")
    assert card is not None and card.verified is not None
    assert f"Informations vérifiées le {card.verified:%d/%m/%Y}" in text and "rédigées le" not in text
    assert offers_a_person(lost)

    child = all_text(say(stack.rest_url, new_sender(), "je voudrais un passeport pour ma fille"))
    assert "Pour un enfant de moins de 15 ans, le passeport coûte 17 €" in child
