"""What screen readers get, read from Chromium's accessibility tree: one announcement per turn, labelled speakers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.chat_fakes import DEMO_ORIGIN, serve_demo_page
from tests.web.chat_server import LiveChatServer
from tests.web.widget_screenshots import GREETING, IDENTITY_TURN

pytestmark = pytest.mark.browser

LONG_TURN: list[dict[str, Any]] = [
    {"text": "**Carte d'identité** : " + "la demande se fait en ligne puis en mairie, sur rendez-vous. " * 4},
    {"text": "Les étapes :\n" + "\n".join(f"{n}. Étape {n}, expliquée avec des mots simples." for n in range(1, 6))},
    {"text": "Documents à apporter : " + "une photo d'identité récente, un justificatif de domicile. " * 3},
]
# Every text the live region takes, in order, as a screen reader would be handed it.
RECORD_ANNOUNCEMENTS_JS = """() => {
  const live = document.querySelector('aside.numecrivain').shadowRoot.querySelector('[aria-live=polite]');
  window.__said = [];
  new MutationObserver(() => { if (live.textContent) window.__said.push(live.textContent); })
    .observe(live, {childList: true, characterData: true, subtree: true});
}"""


def scripted(text: str) -> list[dict[str, Any]]:
    """Greeting, a short three-bubble answer, or a long one."""
    if text == "/greet":
        return [GREETING]
    return LONG_TURN if "longue" in text else IDENTITY_TURN


@pytest.fixture
def server(page: Page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LiveChatServer]:
    """The chat open on the demo page (real web chat channel), greeting shown, announcements recorded from here on."""
    live = LiveChatServer(scripted, monkeypatch, f"sqlite:///{tmp_path / 'numecrivain.db'}")
    serve_demo_page(page, live.url)
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name="Écrire à Numécrivain").click()
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour")
    expect(page.locator("[aria-live=polite]")).to_contain_text("Bonjour")
    page.evaluate(RECORD_ANNOUNCEMENTS_JS)
    yield live
    live.close()


def ask(page: Page, text: str) -> None:
    """Type a question and send it."""
    page.locator("#nc-input").fill(text)
    page.locator("#nc-input").press("Enter")


def ax_nodes(page: Page) -> list[dict[str, Any]]:
    """Chromium's full accessibility tree (shadow DOM included), as assistive technologies get it."""
    client = page.context.new_cdp_session(page)
    try:
        return client.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        client.detach()


def props(node: dict[str, Any]) -> dict[str, Any]:
    """A node's accessibility properties (live, atomic...) by name."""
    return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}


def spoken_text(nodes: list[dict[str, Any]], node: dict[str, Any]) -> str:
    """The text a screen reader reads inside a node: its static texts, in order."""
    by_id = {n["nodeId"]: n for n in nodes}
    words: list[str] = []

    def walk(current: dict[str, Any]) -> None:
        role = current.get("role", {}).get("value")
        if role == "StaticText" and not current.get("ignored"):
            words.append(current.get("name", {}).get("value", ""))
            return
        for child in current.get("childIds", []):
            if child in by_id:
                walk(by_id[child])

    walk(node)
    return re.sub(r"\s+", " ", " ".join(words)).strip()


def speaker_of(item: str) -> str:
    """Who says a message of the log, as its accessible name begins ("Vous : ...")."""
    match = re.match(r"^(.*?) :", item)
    assert match is not None, f"a message without its speaker: {item!r}"
    return match.group(1)


def live_region(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The one polite live region of the widget (the outermost node announcing politely)."""
    polite = {n["nodeId"] for n in nodes if props(n).get("live") == "polite" and not n.get("ignored")}
    roots = [n for n in nodes if n["nodeId"] in polite and n.get("parentId") not in polite]
    assert len(roots) == 1, f"{len(roots)} polite live regions"
    return roots[0]


def announced(page: Page, once_it_says: str) -> str:
    """What the live region holds, read from the accessibility tree once it says that (the tree lags the DOM)."""
    deadline = time.monotonic() + 15
    while True:
        nodes = ax_nodes(page)
        text = spoken_text(nodes, live_region(nodes))
        if once_it_says in text or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(50)


def test_a_three_bubble_turn_is_announced_whole_and_once(page: Page, server: LiveChatServer) -> None:
    ask(page, "j'ai perdu ma carte d'identité")
    expect(page.locator("[aria-live=polite]")).to_contain_text("Carte d'identité perdue")  # not the greeting's
    text = announced(page, "Carte d'identité perdue")
    assert text.startswith("Numécrivain (robot) : Carte d'identité perdue : déclarez la perte"), text
    assert "1. Faites une pré-demande sur ants.gouv.fr." in text and "3. Apportez vos documents" in text
    assert "Source : service-public.fr" in text
    assert text.endswith("Choix proposés : Documents à apporter, Sans Internet."), text
    assert text.count("Numécrivain (robot)") == 1
    assert props(live_region(ax_nodes(page))).get("atomic") is True
    said = page.evaluate("window.__said")
    assert [s for s in said if "écrit" not in s] == [said[-1]], said  # the bubbles never replaced one another


def test_a_long_turn_is_announced_as_its_subject_and_number_of_parts(page: Page, server: LiveChatServer) -> None:
    ask(page, "une réponse longue")
    expect(page.locator("[aria-live=polite]")).to_contain_text("a répondu")
    assert announced(page, "a répondu") == ("Numécrivain a répondu : Carte d'identité, 3 parties, "
                                            "à lire dans la liste des messages.")


def test_waiting_for_the_robot_is_announced_then_replaced_by_the_answer(page: Page, server: LiveChatServer) -> None:
    server.hold_replies = True
    ask(page, "j'ai perdu ma carte d'identité")
    expect(page.locator("[aria-live=polite]")).to_have_text("Numécrivain écrit…")
    assert announced(page, "écrit") == "Numécrivain écrit…"
    server.release()
    expect(page.locator("[aria-live=polite]")).to_contain_text("Carte d'identité perdue")
    assert announced(page, "Carte d'identité perdue").startswith("Numécrivain (robot) : Carte d'identité perdue")


def test_message_list_is_a_silent_log_whose_messages_name_their_speaker(page: Page, server: LiveChatServer) -> None:
    ask(page, "j'ai perdu ma carte d'identité")
    expect(page.locator(".nc-bot")).to_have_count(4)
    server.push({"id": "agent-1", "text": "Bonjour, je suis Inès.", "from": "agent", "agent": "Inès"})
    expect(page.locator(".nc-agent")).to_have_count(1)
    nodes = ax_nodes(page)
    logs = [n for n in nodes if n.get("role", {}).get("value") == "log"]
    assert len(logs) == 1 and logs[0]["name"]["value"] == "Messages de la conversation"
    assert props(logs[0]).get("live") in (None, "off")  # the live region speaks; the log itself stays quiet
    by_id = {n["nodeId"]: n for n in nodes}
    items: list[str] = []

    def collect(node: dict[str, Any]) -> None:
        for child in node.get("childIds", []):
            if child not in by_id:
                continue
            if by_id[child].get("role", {}).get("value") == "listitem":
                items.append(spoken_text(nodes, by_id[child]))
            else:
                collect(by_id[child])

    collect(logs[0])
    speakers = [speaker_of(item) for item in items]
    assert speakers == ["Numécrivain (robot)", "Vous", "Numécrivain (robot)", "Numécrivain (robot)",
                        "Numécrivain (robot)", "Inès (conseiller)"], items


def test_handoff_names_who_joined_then_the_agent_then_the_robot_for_its_goodbye(
    page: Page, server: LiveChatServer
) -> None:
    # What the relay sends for a notice of the service: no agent name (the channel fills in "Conseiller").
    server.push({"id": "joined-1", "from": "agent", "agent": "Conseiller", "kind": "notice",
                 "text": "Inès, de l'équipe, a rejoint la conversation et va vous répondre."})
    notice = page.locator(".nc-msg").last
    expect(notice).to_have_class(re.compile(r"\bnc-note\b"))
    expect(notice).not_to_contain_text("(conseiller)")
    expect(page.locator("[aria-live=polite]")).to_have_text(
        "Inès, de l'équipe, a rejoint la conversation et va vous répondre.")
    server.push({"id": "agent-1", "text": "Bonjour, je suis Inès.", "from": "agent", "agent": "Inès"})
    expect(page.locator(".nc-agent .nc-author")).to_have_text("Inès (conseiller) :")
    server.push({"id": "bye-1", "from": "agent", "agent": "Numécrivain", "handoff_ended": True,
                 "text": "Inès a terminé la conversation. Numécrivain, le robot, vous répond à nouveau."})
    goodbye = page.locator(".nc-msg").last
    expect(goodbye).to_have_class(re.compile(r"\bnc-bot\b"))
    expect(goodbye.locator(".nc-author")).to_have_text("Numécrivain (robot) :")
    expect(page.locator(".nc-agent")).to_have_count(1)
    expect(page.locator(".nc-root")).not_to_contain_text("une personne vous répond")
    expect(page.locator("[aria-live=polite]")).to_contain_text("Numécrivain (robot) : Inès a terminé")
