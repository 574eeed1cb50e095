"""Proposals when the model is unsure: the model's ranking and the keyword index together, never a dead end."""

from __future__ import annotations

from typing import Any

from bot.knowledge import get_knowledge_base
from bot.understanding.proposals import proposals_reply, propose_procedures
from tests.knowledge.samples import shipped_procedure


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    """An intent ranking as Rasa returns it, the fallback first."""
    return [{"name": "nlu_fallback", "confidence": 0.35}, *({"name": n, "confidence": c} for n, c in pairs)]


def test_keywords_bring_the_right_procedure_when_the_model_hesitates_elsewhere() -> None:
    # The model leans towards planning permission; the words of the question name a wedding.
    unsure = ranking(("procedure_planning_permission", 0.30), ("procedure_disability", 0.2),
                     ("procedure_death", 0.1))
    proposed = propose_procedures("Témoins d'un mariage : quelles sont les règles ?", unsure)
    assert "marriage_pacs" in proposed
    assert "planning_permission" in proposed


def test_the_model_ranking_alone_is_enough_when_no_keyword_matches() -> None:
    unsure = ranking(("procedure_passport", 0.30), ("procedure_identity_card", 0.25), ("greet", 0.2))
    assert propose_procedures("bla bla truc", unsure)[:2] == ["passport", "identity_card"]


def test_at_most_limit_known_procedures_without_duplicates() -> None:
    unsure = ranking(*((f"procedure_{p.id}", 0.02) for p in get_knowledge_base()))
    proposed = propose_procedures("carte d'identité passeport permis carte grise", unsure, limit=3)
    assert len(proposed) == 3 and len(set(proposed)) == 3
    assert all(get_knowledge_base().get(pid) is not None for pid in proposed)
    assert propose_procedures("carte d'identité", unsure, limit=2) == propose_procedures(
        "carte d'identité", unsure, limit=3)[:2]


def test_conversation_intents_and_unknown_intents_are_never_proposed() -> None:
    unsure = ranking(("greet", 0.5), ("request_human", 0.3), ("procedure_does_not_exist", 0.9))
    assert propose_procedures("zzkx", unsure) == []


def test_nothing_to_propose_for_gibberish() -> None:
    assert propose_procedures("zzkx qsdf", ranking(("out_of_scope", 0.3))) == []
    assert propose_procedures("", []) == []


def test_malformed_ranking_entries_are_ignored() -> None:
    broken: list[dict[str, Any]] = [{"name": None}, {"confidence": 0.9},
                                    {"name": "procedure_passport", "confidence": "n/a"},
                                    {"name": "procedure_rsa", "confidence": 0.4}]
    assert propose_procedures("", broken) == ["rsa"]


def test_a_very_long_message_is_bounded_and_still_answered() -> None:
    text = "bonjour " * 2000 + "allocation personnalisée d'autonomie"
    assert isinstance(propose_procedures(text, []), list)
    assert "elderly_care" in propose_procedures("ma mère a besoin de l'APA, aide à domicile", [])


def test_reply_offers_procedures_then_something_else_then_a_person() -> None:
    reply = proposals_reply(["marriage_pacs", "death", "unknown"])
    assert reply is not None
    payloads = [button.payload for button in reply.buttons]
    assert payloads == ["/procedure_marriage_pacs", "/procedure_death", "/help_menu", "/request_human"]
    titles = [button.title for button in reply.buttons]
    assert titles[-2:] == ["Autre chose", "Parler à une personne"]
    assert titles[0] == shipped_procedure("marriage_pacs").title


def test_no_reply_when_there_is_nothing_to_propose() -> None:
    assert proposals_reply([]) is None
    assert proposals_reply(["unknown"]) is None


def test_sms_shows_the_proposals_as_numbered_choices_and_a_person_as_zero() -> None:
    from bot.channels.sms.render import render_text

    reply = proposals_reply(["tax_account", "marriage_pacs"])
    assert reply is not None
    sms = render_text(reply.text, [button.as_dict() for button in reply.buttons])
    assert sms.menu == {"1": "/procedure_tax_account", "2": "/procedure_marriage_pacs", "3": "/help_menu",
                        "0": "/request_human"}
    assert "\n1 " in sms.pages[0] and "\n0 Parler à une personne" in sms.pages[-1]
