"""The widget in chromium against the real web chat channel and a scripted bot: keyboard, rendering, safety."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from bot.knowledge.contacts import phone_help, tel_uri
from tests.security.webchat_server import sender_of
from tests.web.chat_fakes import DEMO_ORIGIN, serve_demo_page
from tests.web.chat_server import LiveChatServer
from tests.web.conftest import focused, tab_to

pytestmark = pytest.mark.browser

HUMAN = {"content_type": "text", "title": "Parler à une personne", "payload": "/request_human"}
GREETING = {"text": "Bonjour ! Je suis Numécrivain. Écrivez votre question avec vos mots.",
            "quick_replies": [{"content_type": "text", "title": "Voir les sujets", "payload": "/help_menu"}, HUMAN]}
PLACES_TEXT = ("Les lieux d'aide les plus proches à Roubaix :\n1. **Espace France Services**\n"
               "   12 rue de Lille, 59100 Roubaix – à 1,2 km\n   Tél. 03 20 00 00 00 – [Voir sur la carte](https://osm.org/x)\n"
               "_Distances depuis le centre de Roubaix._")
PLACES = {"type": "places", "places": [{
    "nom": "Espace France Services", "adresse": "12 rue de Lille, 59100 Roubaix", "distance_km": 1.24,
    "walking_minutes": 15, "today": "Aujourd'hui : ouvert de 9 h à 12 h.", "telephone": "0320000000",
    "telephone_display": "03 20 00 00 00", "map_url": "https://www.openstreetmap.org/?mlat=50.69&mlon=3.18",
}]}
HOSTILE = ('<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [clic](javascript:window.__xss=3) '
           "**gras** [ANTS](https://ants.gouv.fr)")


def scripted_bot(text: str) -> list[dict[str, Any]]:
    """Answers like the real bot does, by message."""
    if text == "/greet":
        return [GREETING]
    if text == "/help_menu":
        return [{"text": "Choisissez un sujet.", "quick_replies": [
            {"content_type": "text", "title": "Carte d'identité", "payload": "/procedure_identity_card"}, HUMAN]}]
    if text.startswith("/find_help_nearby") or text == "lieux":
        return [{"text": PLACES_TEXT}, {"custom": PLACES}]
    if text == "piège":
        return [{"text": HOSTILE}]
    return [{"text": f"Réponse à : {text}\n\n1. Première étape\n2. Deuxième étape", "quick_replies": [HUMAN]}]


@pytest.fixture
def server(page: Page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LiveChatServer]:
    """The real web chat channel with a scripted bot behind the page, and the demo page on a fake origin."""
    live = LiveChatServer(scripted_bot, monkeypatch, f"sqlite:///{tmp_path / 'numecrivain.db'}")
    page.requested = serve_demo_page(page, live.url)  # type: ignore[attr-defined]
    yield live
    live.close()


def open_with_keyboard(page: Page) -> None:
    """Load the demo page and open the chat with Tab and Enter only."""
    page.goto(f"{DEMO_ORIGIN}/")
    tab_to(page, "Écrire à Numécrivain")
    page.keyboard.press("Enter")
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour")


def say(page: Page, text: str) -> None:
    """Type a message in the chat and send it with Enter."""
    page.locator("#nc-input").fill(text)
    page.locator("#nc-input").press("Enter")


def test_keyboard_opens_the_chat_in_the_input_and_escape_gives_focus_back(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    assert focused(page)["id"] == "nc-input"
    expect(page.get_by_role("dialog", name="Numécrivain")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert "Écrire à Numécrivain" in focused(page)["text"]
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "nc-input"


def focus_outline(page: Page) -> str:
    """The outline drawn around the focused control of the widget."""
    return page.evaluate("""() => { let a = document.activeElement.shadowRoot.activeElement;
        const s = getComputedStyle(a); return s.outlineStyle + ' ' + s.outlineWidth; }""")


def open_menu(page: Page) -> None:
    """Open the tools menu of the header."""
    page.get_by_role("button", name="Menu des options").click()


def test_every_control_is_reachable_with_tab_and_shows_its_focus(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    for name in ("Voir les sujets", "Parler à une personne", "Utiliser ma position", "Envoyer", "Fermer", "Menu"):
        tab_to(page, name)
        assert focus_outline(page) == "solid 3px", name
    page.keyboard.press("Enter")
    assert focused(page)["text"] == "Texte plus grand" and focus_outline(page) == "solid 3px"
    tab_to(page, "Effacer la conversation", limit=1)
    assert focus_outline(page) == "solid 3px"


def test_choice_sends_its_payload_and_shows_its_title_as_my_message(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    tab_to(page, "Voir les sujets")
    page.keyboard.press("Enter")
    expect(page.locator(".nc-bot").last).to_contain_text("Choisissez un sujet")
    assert server.texts == ["/greet", "/help_menu"]
    assert [m["metadata"].get("button") for m in server.user_messages] == [True, True]
    expect(page.locator(".nc-user").last).to_have_text(re.compile("Voir les sujets$"))


def test_person_button_is_always_there_and_not_repeated_in_each_message(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    expect(page.get_by_role("button", name="Parler à une personne")).to_have_count(1)
    page.get_by_role("button", name="Parler à une personne").click()
    expect(page.locator(".nc-user").last).to_contain_text("Parler à une personne")
    server.wait_for_last_text("/request_human")


def broken_images_have_failed(page: Page) -> None:
    """Wait until an image of the page's broken address "x" has failed: an injected one would have failed too."""
    assert page.evaluate("""() => new Promise(done => {
        const image = new Image(); image.onerror = () => done(true); image.src = 'x?control'; })""")


def test_markdown_answer_shows_lists_and_safe_links(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "piège")
    bubble = page.locator(".nc-bot").last
    expect(bubble).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(bubble).to_contain_text("<script>window.__xss=2</script>")
    assert bubble.locator("img, script").count() == 0
    assert bubble.locator("strong").inner_text() == "gras"
    links = bubble.locator("a")
    expect(links).to_have_count(1)  # the javascript: link stays text
    assert links.get_attribute("href") == "https://ants.gouv.fr"
    assert links.get_attribute("rel") == "noopener noreferrer" and links.get_attribute("target") == "_blank"
    expect(links).to_contain_text("(nouvelle fenêtre)")
    broken_images_have_failed(page)
    assert page.evaluate("window.__xss") is None


def test_my_html_is_shown_as_typed_and_never_run(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    say(page, hostile)
    expect(page.locator(".nc-user").last).to_contain_text(hostile)
    broken_images_have_failed(page)
    assert page.locator(".nc-log img, .nc-log script").count() == 0
    assert page.evaluate("window.__xss") is None
    server.wait_for_last_text(hostile)


def test_ten_thousand_characters_are_refused_with_an_explanation(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "a" * 10_000)
    expect(page.locator("#nc-count")).to_contain_text("Message trop long : 10000 caractères. 500 au maximum")
    assert page.locator("#nc-input").get_attribute("aria-invalid") == "true"
    assert len(page.locator("#nc-input").input_value()) == 10_000  # nothing lost: the person shortens it
    page.locator("#nc-input").fill("a" * 500)
    page.locator("#nc-input").press("Enter")
    expect(page.locator(".nc-user")).to_have_count(1)
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : aaaa")
    assert server.texts == ["/greet", "a" * 500]  # one socket, in order: the long one was never sent


def test_places_arrive_as_cards_with_a_map_link_instead_of_the_text_list(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "lieux")
    card = page.locator(".nc-place")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Espace France Services")).to_be_visible()
    expect(card).to_contain_text("À 1,2 km, environ 15 min à pied")
    expect(card).to_contain_text("Aujourd'hui : ouvert de 9 h à 12 h.")
    href = card.get_by_role("link", name=re.compile("^Voir sur la carte")).get_attribute("href")
    assert href is not None and href.startswith("https://www.openstreetmap.org/")
    assert card.get_by_role("link", name=re.compile("03 20 00 00 00")).get_attribute("href") == "tel:0320000000"
    answer = page.locator(".nc-bot").last
    expect(answer).to_contain_text("Les lieux d'aide les plus proches à Roubaix")
    expect(answer).to_contain_text("Distances depuis le centre de Roubaix.")
    expect(answer.locator(".nc-bubble > ol")).to_have_count(0)  # the text list gave way to the cards


def test_agent_message_is_marked_as_coming_from_a_person(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    server.push({"id": "agent-1", "text": "Bonjour, je suis Inès. Je regarde votre question.", "from": "agent",
                 "agent": "Inès"})
    agent = page.locator(".nc-agent")
    expect(agent.locator(".nc-author")).to_have_text("Inès (conseiller) :")
    expect(agent).to_contain_text("Bonjour, je suis Inès.")
    expect(page.locator("[aria-live=polite]")).to_have_text("Inès (conseiller) : Bonjour, je suis Inès. "
                                                             "Je regarde votre question.")


def test_new_messages_are_announced_to_screen_readers(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "ma carte vitale")
    expect(page.locator("[aria-live=polite]")).to_contain_text("Numécrivain (robot) : Réponse à : ma carte vitale")


def test_unreachable_server_says_so_with_the_phone_line(page: Page, server: LiveChatServer) -> None:
    server.up = False
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Numécrivain ne répond pas pour le moment")
    help_phone = phone_help().phone or ""
    assert alert.get_by_role("link", name=help_phone).get_attribute("href") == tel_uri(help_phone)


def test_message_written_while_the_server_is_away_is_sent_once_when_it_returns(
    page: Page, server: LiveChatServer
) -> None:
    open_with_keyboard(page)
    server.go_down()
    expect(page.get_by_role("alert")).to_contain_text(phone_help().phone or "")
    say(page, "ma carte vitale")
    expect(page.locator(".nc-pending")).to_contain_text("En attente d'envoi")
    server.come_back()
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : ma carte vitale", timeout=40_000)
    expect(page.locator(".nc-pending")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_text("")
    assert server.texts == ["/greet", "ma carte vitale"]
    expect(page.locator(".nc-bot", has_text="Réponse à : ma carte vitale")).to_have_count(1)


def test_message_whose_receipt_was_lost_is_resent_but_answered_once(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    server.hold_acks = True  # the bot answers, then the connection breaks before the receipt
    say(page, "ma carte vitale")
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : ma carte vitale")
    server.go_down()
    server.hold_acks = False
    server.come_back()
    page.wait_for_function(
        f"() => JSON.parse(sessionStorage.getItem('numecrivain:{server.url}')).queue.length === 0", timeout=40_000)
    assert [m["message"] for m in server.attempts].count("ma carte vitale") == 2
    assert server.texts == ["/greet", "ma carte vitale"]
    expect(page.locator(".nc-bot", has_text="Réponse à : ma carte vitale")).to_have_count(1)


def test_message_the_server_could_not_handle_is_sent_again_with_the_same_id(
        page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    server.unavailable_acks = 1  # the channel answers "handled: false, unavailable" once (Rasa restarting)
    say(page, "ma carte vitale")
    expect(page.locator(".nc-bot", has_text="Réponse à : ma carte vitale")).to_have_count(1, timeout=20_000)
    tries = [m for m in server.attempts if m["message"] == "ma carte vitale"]
    assert len(tries) == 2
    assert tries[0]["metadata"]["message_id"] == tries[1]["metadata"]["message_id"]
    assert server.texts == ["/greet", "ma carte vitale"]


def test_a_bot_message_received_twice_is_shown_once(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    for _ in range(2):
        server.push({"id": "same-id", "text": "Votre dossier est prêt."})
    server.push({"id": "next-id", "text": "Autre chose ?"})  # arrives after both copies: they were both read
    expect(page.locator(".nc-bot").last).to_contain_text("Autre chose ?")
    expect(page.locator(".nc-bot", has_text="Votre dossier est prêt.")).to_have_count(1)


def test_reload_shows_the_same_conversation_and_rejoins_its_session(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "ma carte vitale")
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : ma carte vitale")
    before = page.locator(".nc-msg").all_text_contents()
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator(".nc-msg")).to_have_count(3)
    assert page.locator(".nc-msg").all_text_contents() == before
    expect(page.locator(".nc-alert")).to_have_text("")
    rejoined = server.session_requests[-1]
    assert server.session_requests[0] is None and rejoined is not None
    assert [m["sender_id"] for m in server.user_messages] == [sender_of(rejoined)] * 2  # the same conversation
    assert server.texts == ["/greet", "ma carte vitale"]  # no second greeting


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for something the server records (the page cannot be asked about it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.05)


def test_reloads_during_a_slow_greeting_greet_once(page: Page, server: LiveChatServer) -> None:
    page.goto(f"{DEMO_ORIGIN}/")
    server.hold_replies = True  # the first answer takes a while (Rasa on a busy machine)
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    page.wait_for_function(f"() => JSON.parse(sessionStorage.getItem('numecrivain:{server.url}') || '{{}}').sid")
    page.reload()  # the new page sends its greeting request again, with the same id
    wait_until(lambda: [m["message"] for m in server.attempts] == ["/greet", "/greet"])
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    server.release()
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour")
    page.get_by_role("button", name="Parler à une personne").click()  # the next answer follows every greeting
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : /request_human")
    expect(page.locator(".nc-bot", has_text="Bonjour")).to_have_count(1)
    assert server.texts == ["/greet", "/request_human"]


def test_clear_forgets_the_conversation_and_starts_a_new_session(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "ma carte vitale")
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à")
    open_menu(page)
    page.get_by_role("button", name="Effacer la conversation").click()
    expect(page.locator(".nc-msg")).to_have_count(1)
    expect(page.locator(".nc-bot")).to_contain_text("Bonjour")
    assert server.session_requests[-1] is None
    assert "ma carte vitale" not in page.evaluate(f"sessionStorage.getItem('numecrivain:{server.url}')")


def test_position_is_sent_only_after_consent(browser: Browser, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    context = browser.new_context(locale="fr-FR", geolocation={"latitude": 50.63712, "longitude": 3.06338},
                                  permissions=["geolocation"])
    server = LiveChatServer(scripted_bot, monkeypatch, f"sqlite:///{tmp_path / 'numecrivain.db'}")
    try:
        page = context.new_page()
        serve_demo_page(page, server.url)
        open_with_keyboard(page)
        page.get_by_role("button", name="Utiliser ma position").click()
        expect(page.get_by_role("group", name=re.compile("Numécrivain peut utiliser votre position"))).to_be_visible()
        page.get_by_role("button", name="Non, merci").click()
        assert focused(page)["text"] == "Utiliser ma position"
        page.get_by_role("button", name="Utiliser ma position").click()
        page.get_by_role("button", name="Oui, utiliser ma position").click()
        expect(page.locator(".nc-place")).to_have_count(1)
        assert server.texts == ["/greet", "/find_help_nearby"]  # one socket, in order: nothing sent after "Non"
        sent = server.user_messages[-1]
        assert sent["message"] == "/find_help_nearby"  # the position travels as metadata, never as entities
        assert sent["metadata"]["location"] == {"latitude": 50.637, "longitude": 3.063}
        assert sent["metadata"]["button"] is True
        expect(page.locator(".nc-user").last).to_contain_text("Ma position")
    finally:
        context.close()
        server.close()


def test_larger_text_switch_grows_text_and_is_remembered(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    open_menu(page)
    switch = page.get_by_role("button", name="Texte plus grand")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert page.locator(".nc-root").evaluate("n => getComputedStyle(n).fontSize") == "20px"
    page.reload()
    open_menu(page)
    expect(page.get_by_role("button", name="Texte plus grand")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize(("width", "height", "root_font"), [(320, 640, "100%"), (1280, 720, "200%")])
def test_chat_stays_usable_at_320_px_and_with_text_at_200_percent(
    page: Page, server: LiveChatServer, width: int, height: int, root_font: str
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_with_keyboard(page)
    page.evaluate(f"document.documentElement.style.fontSize = '{root_font}'")
    say(page, "une question avec un lien très long https://www.service-public.fr/particuliers/vosdroits/F1341")
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à")
    panel = page.locator(".nc-panel")
    assert panel.evaluate("n => n.scrollWidth <= n.clientWidth"), "horizontal scrolling in the chat"
    box = panel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    for name in ("Envoyer", "Fermer la discussion"):
        control = page.get_by_role("button", name=name)
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()


def test_reduced_motion_stops_the_typing_animation(page: Page, server: LiveChatServer) -> None:
    page.emulate_media(reduced_motion="reduce")
    open_with_keyboard(page)
    server.hold_acks = True
    say(page, "ma carte vitale")
    expect(page.locator(".nc-typing")).to_be_visible()
    assert page.locator(".nc-dots").evaluate("n => getComputedStyle(n).animationName") == "none"


def test_page_and_widget_request_nothing_from_third_parties(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "lieux")
    expect(page.locator(".nc-place")).to_have_count(1)
    outside = [url for url in page.requested if not url.startswith(DEMO_ORIGIN)]  # type: ignore[attr-defined]
    assert outside == []


def test_axe_finds_no_violation_with_the_chat_open_and_full_of_messages(page: Page, server: LiveChatServer) -> None:
    open_with_keyboard(page)
    say(page, "ma carte vitale")
    say(page, "lieux")
    expect(page.locator(".nc-place")).to_have_count(1)
    server.push({"id": "agent-1", "text": "Bonjour, je suis Inès.", "from": "agent", "agent": "Inès"})
    expect(page.locator(".nc-agent")).to_have_count(1)
    results = Axe().run(page)
    assert results.violations_count == 0, json.dumps(results.response["violations"], ensure_ascii=False)[:4000]
    open_menu(page)
    page.get_by_role("button", name="Texte plus grand").click()
    results = Axe().run(page)
    assert results.violations_count == 0, json.dumps(results.response["violations"], ensure_ascii=False)[:4000]


def test_history_saved_before_parts_existed_shows_its_text_as_typed(page: Page, server: LiveChatServer) -> None:
    saved = {"sid": None, "open": True, "big": False, "queue": [], "msgs": [
        {"id": "old-1", "who": "bot", "text": "**Ancien** message\n<b>x</b>\n\nSuite"}]}
    key = "numecrivain:" + server.url.rstrip("/")
    page.add_init_script(f"""(() => {{ const s = {json.dumps(saved)}; s.at = Date.now();
        sessionStorage.setItem({json.dumps(key)}, JSON.stringify(s)); }})()""")
    page.goto(f"{DEMO_ORIGIN}/")
    bubble = page.locator(".nc-bot .nc-bubble").first
    expect(bubble.locator("p")).to_have_count(2)
    expect(bubble.locator("p").first).to_have_text("**Ancien** message<b>x</b>")
    assert bubble.locator("strong, b").count() == 0 and bubble.locator("p").first.locator("br").count() == 1
