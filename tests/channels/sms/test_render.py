"""SMS rendering: GSM-7 only, numbered menu with '0' for a person, at most N segments, PLUS for the rest."""

from __future__ import annotations

import statistics
from typing import Any

import gsm0338  # noqa: F401  (registers the GSM 03.38 codec used below, independently of bot.gsm7)
import pytest
import yaml

from bot.channels.sms.commands import resolve_menu_choice
from bot.channels.sms.render import (
    HUMAN_LINE,
    MORE_NOTICE,
    build_menu,
    clean_url,
    render_messages,
    render_text,
    segment_budget,
    strip_markdown,
)
from bot.gsm7 import segment_count
from bot.knowledge import get_knowledge_base
from bot.knowledge.render import render_sms, render_web
from bot.paths import PROJECT_ROOT
from bot.replies import HUMAN_PAYLOAD

PROCEDURES = list(get_knowledge_base())


def encodes_in_gsm7(text: str) -> bool:
    """Checked with the gsm0338 codec itself: no character would force UCS-2."""
    try:
        text.encode("gsm03.38")
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def dispatched(replies: list[Any]) -> list[dict[str, Any]]:
    """What rasa-sdk sends to the channel for these replies (as the procedures action does)."""
    return [reply.with_human_offer().as_dispatch_kwargs() for reply in replies]


def test_the_knowledge_base_is_not_empty() -> None:
    assert len(PROCEDURES) >= 1


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_procedure_sms_answer_is_gsm7_in_two_segments_with_menu(procedure: Any) -> None:
    reply = render_messages(dispatched(render_sms(procedure)))
    assert reply.pages, "an answer must produce at least one SMS"
    for page in reply.pages:
        assert encodes_in_gsm7(page), page
        assert segment_count(page) <= 2
    assert HUMAN_LINE in reply.first
    assert reply.menu["0"] == HUMAN_PAYLOAD


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_procedure_full_answer_is_paged_in_gsm7(procedure: Any) -> None:
    reply = render_messages(dispatched(render_web(procedure)))
    for page in reply.pages[:-1]:
        assert MORE_NOTICE in page
    assert MORE_NOTICE not in reply.pages[-1]
    for page in reply.pages:
        assert encodes_in_gsm7(page)
        assert segment_count(page) <= 2
        assert "**" not in page and "](" not in page


def test_procedures_median_is_at_most_two_segments() -> None:
    # The first SMS answers; the other parts are sent only on PLUS.
    counts = [segment_count(render_messages(dispatched(render_sms(proc))).first) for proc in PROCEDURES]
    assert statistics.median(counts) <= 2


def domain_responses() -> list[tuple[str, dict[str, Any]]]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [(name, variant) for name, variants in (domain.get("responses") or {}).items() for variant in variants]


@pytest.mark.parametrize(("name", "response"), domain_responses(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_domain_response_fits_two_gsm7_segments(name: str, response: dict[str, Any]) -> None:
    reply = render_messages([response])
    assert encodes_in_gsm7(reply.first)
    assert segment_count(reply.first) <= 2
    assert reply.first.rstrip().endswith(HUMAN_LINE)


def test_buttons_become_one_numbered_menu_with_person_last() -> None:
    reply = render_text("Quel papier ?", [
        {"title": "Parler à une personne", "payload": "/request_human"},
        {"title": "Carte d'identité", "payload": "/procedure_identity_card"},
        {"title": "Passeport", "payload": "/procedure_passport"},
    ])
    assert reply.first == "Quel papier ?\n1 Carte d'identité\n2 Passeport\n0 Parler à une personne"


def test_menu_round_trip_maps_each_number_to_its_payload() -> None:
    buttons = [{"title": f"Choix {i}", "payload": f"/choice_{i}"} for i in range(1, 6)]
    reply = render_text("Choisissez.", buttons)
    for i in range(1, 6):
        line = f"{i} Choix {i}"
        assert line in reply.first
        assert resolve_menu_choice(str(i), reply.menu) == f"/choice_{i}"
    assert resolve_menu_choice("0", reply.menu) == HUMAN_PAYLOAD


def test_menu_merges_buttons_of_all_messages_without_duplicates() -> None:
    reply = render_messages([
        {"text": "Premier.", "buttons": [{"title": "Passeport", "payload": "/procedure_passport"},
                                         {"title": "Parler à une personne", "payload": "/request_human"}]},
        {"text": "Second.", "buttons": [{"title": "Passeport", "payload": "/procedure_passport"}]},
    ])
    assert reply.first == "Premier.\nSecond.\n1 Passeport\n0 Parler à une personne"


def test_person_is_offered_even_when_the_reply_has_no_button() -> None:
    assert render_text("Bonjour.").first.endswith(HUMAN_LINE)
    assert render_text("Bonjour.", offer_human=False).first == "Bonjour."


def test_accents_outside_gsm7_are_transliterated() -> None:
    reply = render_text("Déclarez la fenêtre où le garçon reçoit l’aîné « vite » — 5 € 😀", offer_human=False)
    assert reply.first == "Déclarez la fenetre où le garcon recoit l'ainé \"vite\" - 5 €"
    assert encodes_in_gsm7(reply.first)


def test_markdown_is_stripped_and_links_kept_short() -> None:
    text = ("**Carte d'identité**\n_Vérifié_ le 01/02/2026.\n\n- [ANTS](https://ants.gouv.fr/?utm_source=bot)\n"
            "- Voir https://www.service-public.fr/particuliers/vosdroits/F1427?xtor=RSS-1&lang=fr.\n# Titre")
    assert strip_markdown(text) == (
        "Carte d'identité\nVérifié le 01/02/2026.\n- ANTS : https://ants.gouv.fr\n"
        "- Voir www.service-public.fr/particuliers/vosdroits/F1427?lang=fr.\nTitre"
    )


def test_underscores_inside_urls_are_kept() -> None:
    assert strip_markdown("https://exemple.gouv.fr/mes_droits_en_ligne") == "https://exemple.gouv.fr/mes_droits_en_ligne"


def test_clean_url_drops_tracking_only() -> None:
    assert clean_url("https://www.caf.fr/?utm_medium=sms&fbclid=x") == "www.caf.fr"
    assert clean_url("https://ants.gouv.fr/a?id=3&gclid=z") == "https://ants.gouv.fr/a?id=3"


@pytest.mark.parametrize("max_segments", [1, 2, 3])
def test_long_reply_is_paged_within_the_configured_segments(max_segments: int) -> None:
    text = " ".join(f"Phrase numéro {i} de la réponse longue." for i in range(60))
    reply = render_text(text, [{"title": "Passeport", "payload": "/procedure_passport"}], max_segments=max_segments)
    assert len(reply.pages) > 1
    for page in reply.pages:
        assert segment_count(page) <= max_segments
        assert page.endswith("1 Passeport\n0 Parler à une personne")
    assert all(MORE_NOTICE in page for page in reply.pages[:-1])
    joined = " ".join(page.split(f"\n{MORE_NOTICE}")[0].split("\n1 Passeport")[0] for page in reply.pages)
    assert " ".join(joined.split()) == text


def test_pages_break_between_words() -> None:
    text = " ".join(["administration"] * 80)
    for page in render_text(text, offer_human=False).pages:
        assert all(word in ("administration", "Répondez", "PLUS", "pour", "la", "suite") for word in page.split())


def test_euro_sign_counts_two_septets() -> None:
    text = "€" * 200
    for page in render_text(text, offer_human=False, max_segments=1).pages:
        assert segment_count(page) == 1


def test_a_very_long_menu_moves_into_the_text_and_keeps_zero_on_every_page() -> None:
    buttons = [{"title": f"Démarche administrative numéro {i}", "payload": f"/p{i}"} for i in range(1, 10)]
    reply = render_text("Choisissez.", buttons, max_segments=1)
    for page in reply.pages:
        assert page.endswith(HUMAN_LINE)
        assert segment_count(page) == 1
    assert reply.menu["9"] == "/p9"


def test_segment_budget() -> None:
    assert segment_budget(1) == 160
    assert segment_budget(2) == 306
    with pytest.raises(ValueError):
        segment_budget(0)


def test_build_menu_shortens_long_titles() -> None:
    items = build_menu([{"title": "Un titre de bouton vraiment beaucoup trop long pour un SMS", "payload": "/x"}])
    assert len(items[0].title) <= 40 and items[0].title.endswith("...")


def test_topics_menu_fits_one_sms_reply_with_all_choices() -> None:
    help_menu = next(variant for name, variant in domain_responses() if name == "utter_help_menu")
    reply = render_messages([help_menu])
    assert len(reply.pages) == 1 and segment_count(reply.first) <= 2
    for number, button in enumerate(b for b in help_menu["buttons"] if b["payload"] != HUMAN_PAYLOAD):
        assert reply.menu[str(number + 1)] == button["payload"]
        assert f"\n{number + 1} " in reply.first
