"""Residents' questions get what they asked in the first lines, on the web and by SMS; the rest is one tap away."""

from __future__ import annotations

import pytest

from bot.channels.sms.render import MORE_NOTICE, is_link_only, render_messages
from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge import get_knowledge_base
from bot.knowledge.answer import lead_for_secretariat
from bot.knowledge.contacts import short_url
from bot.knowledge.render import render_sms, render_web, resolve
from bot.replies import HUMAN_PAYLOAD
from tests.knowledge.samples import shipped_procedure

# (procedure, question, what the first lines must say)
QUESTIONS = [
    ("passport", "combien coute un passeport pour mon fils de 12 ans", "le passeport coûte 17 €"),
    ("passport", "cb coute le passeport pour ma fille de 16 ans", "le passeport coûte 42 €"),
    ("passport", "passeport pour ma mère de 70 ans, c'est combien ?", "le passeport coûte 86 €"),
    ("identity_card", "jai perdu ma carte didentité", "Carte perdue : faites une nouvelle demande dans une mairie"),
    ("identity_card", "on m'a vole ma cni", "déclarez d'abord le vol au commissariat ou à la gendarmerie"),
    ("identity_card", "combien coute une carte d'identité", "Gratuite pour une première demande"),
    ("passport", "quels papiers pour un passeport", "À apporter :\n- Le numéro de pré-demande ou son QR code"),
    ("passport", "délai pour un passeport", "**Passeport**\nLe passeport n'est pas fait sur place"),
]


def first_lines(text: str, count: int = 3) -> str:
    """The lines a resident reads before anything else (the title and the answer)."""
    return "\n".join(text.split("\n")[:count])


@pytest.mark.parametrize(("procedure_id", "question", "expected"), QUESTIONS)
def test_web_first_lines_answer_the_question(procedure_id: str, question: str, expected: str) -> None:
    replies = render_web(shipped_procedure(procedure_id), question)
    assert len(replies) == 1
    assert expected in first_lines(replies[0].text)


def test_child_price_is_the_one_for_that_age_only() -> None:
    passport = shipped_procedure("passport")
    text = render_web(passport, "combien coute un passeport pour mon fils de 12 ans")[0].text
    assert "17 €" in text and "42 €" not in text and "86 €" not in text


def test_lost_card_answer_says_what_to_do_before_the_price() -> None:
    text = render_web(shipped_procedure("identity_card"), "jai perdu ma carte didentité")[0].text
    assert text.index("nouvelle demande") < text.index("25 €")


@pytest.mark.parametrize("procedure", list(get_knowledge_base()), ids=lambda p: p.id)
def test_first_bubble_is_short_and_offers_the_other_parts(procedure) -> None:
    reply = render_web(procedure)[0]
    assert len(reply.text) <= 600, "the first bubble must fit a phone screen"
    titles = [b.title for b in reply.buttons]
    assert titles[0] == "Voir les étapes" and titles[-2:] == ["Sans Internet", "Site officiel"]
    assert HUMAN_PAYLOAD in [b["payload"] for b in reply.with_human_offer().as_dispatch_kwargs()["buttons"]]


def test_documents_question_does_not_offer_the_documents_again() -> None:
    reply = render_web(shipped_procedure("passport"), "quels papiers pour un passeport")[0]
    assert "Documents à apporter" not in [b.title for b in reply.buttons]


def sms_pages(procedure_id: str, question: str | None) -> list[str]:
    replies = render_sms(shipped_procedure(procedure_id), question)
    return list(render_messages([r.with_human_offer().as_dispatch_kwargs() for r in replies]).pages)


@pytest.mark.parametrize(("procedure_id", "question", "expected"), [
    ("passport", "combien coute un passeport pour mon fils de 12 ans", "Passeport enfant de moins de 15 ans: 17 €"),
    ("identity_card", "jai perdu ma carte didentité", "Carte d'identité perdue: nouvelle demande"),
    ("identity_card", "combien coute une carte d'identité", "Gratuite pour une première demande"),
    ("passport", "délai pour un passeport", "Passeport: Le passeport n'est pas fait sur place"),
])
def test_first_sms_answers_and_plus_gives_the_documents_next(procedure_id: str, question: str, expected: str) -> None:
    pages = sms_pages(procedure_id, question)
    assert expected in pages[0] and MORE_NOTICE in pages[0] and "0 Parler à une personne" in pages[0]
    assert "A apporter:" in pages[1]  # the next useful part (after what did not fit the first SMS)
    assert all(is_gsm7(page) and segment_count(page) <= 2 for page in pages)


@pytest.mark.parametrize("procedure", list(get_knowledge_base()), ids=lambda p: p.id)
def test_no_sms_page_holds_only_a_link(procedure) -> None:
    pages = sms_pages(procedure.id, None)
    bodies = [page.split("\n" + MORE_NOTICE)[0].split("\n1 Trouver")[0].split("\n0 Parler")[0] for page in pages]
    assert not any(is_link_only(body) for body in bodies), bodies
    assert short_url(resolve(procedure).main_link.url) in pages[-1]  # the official link still comes, at the end
    assert MORE_NOTICE not in pages[-1]


def test_link_only_text_is_recognised() -> None:
    assert is_link_only("service-public.gouv.fr/particuliers/vosdroits/F14929")
    assert is_link_only("Infos: ants.gouv.fr")
    assert not is_link_only("Appelez une mairie équipée pour prendre rendez-vous. Infos: ants.gouv.fr")


def test_secretariat_gets_the_answer_to_the_question_on_top() -> None:
    passport = resolve(shipped_procedure("passport"))
    lead = lead_for_secretariat(passport, "un administré demande le prix du passeport pour son fils de 12 ans")
    assert lead["asked"] == "cost" and lead["age"] == 12 and lead["case"]["id"] == "minor_under_15"
    assert lead["text"].startswith("Pour un enfant de moins de 15 ans, le passeport coûte 17 €")
    documents = lead_for_secretariat(passport, "quelles pièces pour un passeport")
    assert documents["asked"] == "documents" and "\n- Une photo d'identité" in documents["text"]
    assert lead_for_secretariat(passport, None)["text"] == passport.summary
