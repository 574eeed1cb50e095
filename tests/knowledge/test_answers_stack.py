"""Over real HTTP: the asked detail first (price for the age given, what to do after a loss), the rest as buttons."""

from __future__ import annotations

import pytest

from bot.knowledge import get_knowledge_base
from tests.e2e.rest import all_text, new_sender, offers_a_person, say

pytestmark = pytest.mark.stack


def test_lost_card_answer_comes_first_with_the_other_parts_as_buttons(stack) -> None:
    lost = say(stack.rest_url, new_sender(), "jai perdu ma carte d'identité")
    first = lost[0]["text"]
    assert first.startswith("**Carte d'identité**\nCarte perdue : faites une nouvelle demande dans une mairie")
    card = get_knowledge_base().by_intent("procedure_identity_card")
    assert card is not None and card.verified is not None
    assert f"informations vérifiées le {card.verified:%d/%m/%Y}" in first and "rédigées le" not in first
    assert len(lost) == 1 and offers_a_person(lost)
    assert [b["title"] for b in lost[0]["buttons"]] == [
        "Voir les étapes", "Documents à apporter", "Sans Internet", "Site officiel", "Parler à une personne"]
    assert "{contact:" not in first and "{name:" not in first


def test_child_passport_price_is_the_one_for_the_age_given(stack) -> None:
    answer = all_text(say(stack.rest_url, new_sender(), "combien coute un passeport pour mon fils de 12 ans"))
    assert "Pour un enfant de moins de 15 ans, le passeport coûte 17 €" in answer and "42 €" not in answer
