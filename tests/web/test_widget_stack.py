"""The demo page of the running portal, talking to the real bot over socket.io, in chromium."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import Stack
from tests.web.conftest import focused, tab_to

pytestmark = [pytest.mark.stack, pytest.mark.browser]

ANSWER_TIMEOUT = 60_000


def session_id(page: Page, stack: Stack) -> str:
    """The Rasa conversation of the signed session token the widget keeps in this tab for this chat server."""
    state = page.evaluate(f"sessionStorage.getItem('numecrivain:{stack.rasa_url}')")
    return "web:" + json.loads(state)["sid"].split(".")[0]


def test_keyboard_only_question_answer_button_and_reload(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.web_url}/")
    tab_to(page, "Écrire à Numécrivain")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "nc-input"
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour", timeout=ANSWER_TIMEOUT)

    page.keyboard.type("j'ai perdu ma carte d'identité")
    page.keyboard.press("Enter")
    # Screen readers get the whole answer at once, with its choices, once it has arrived.
    live = page.locator("[aria-live=polite]")
    expect(live).to_contain_text("Numécrivain (robot) : Carte d'identité", timeout=ANSWER_TIMEOUT)
    expect(live).to_contain_text("Choix proposés : ")
    expect(page.locator(".nc-bot", has_text="Carte d'identité").first).to_be_visible()
    # The answer comes first; the official site is one button away.
    tab_to(page, "Site officiel", limit=80)
    page.keyboard.press("Enter")
    official = page.locator(".nc-bot a[href^='https://']").first
    expect(official).to_be_visible(timeout=ANSWER_TIMEOUT)
    host = urlsplit(official.get_attribute("href") or "").hostname
    assert host is not None and host.endswith(("service-public.fr", "ants.gouv.fr", ".gouv.fr"))

    tab_to(page, "Voir les sujets", limit=80)
    page.keyboard.press("Enter")
    expect(page.locator(".nc-user").last).to_have_text(re.compile("Voir les sujets$"))
    expect(page.get_by_role("button", name="Passeport").last).to_be_visible(timeout=ANSWER_TIMEOUT)

    before = page.locator(".nc-msg").all_text_contents()
    sid = session_id(page, stack)
    page.reload()
    expect(page.get_by_role("dialog", name="Numécrivain")).to_be_visible()
    assert page.locator(".nc-msg").all_text_contents() == before
    assert session_id(page, stack) == sid

    # After the reload, the page is back in its session's room: the next answer reaches it.
    page.get_by_role("button", name="Passeport").last.click()
    expect(page.locator(".nc-bot", has_text="Passeport").last).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert session_id(page, stack) == sid


def test_agent_message_relayed_by_the_bot_server_shows_as_a_person(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.web_url}/")
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour", timeout=ANSWER_TIMEOUT)
    url = f"{stack.rasa_url}/webhooks/webchat/agent_message"
    body = {"sender_id": session_id(page, stack), "text": "Bonjour, je suis Inès, conseillère.", "agent": "Inès"}

    refused = requests.post(url, json=body, timeout=10)
    assert refused.status_code == 401
    relayed = requests.post(url, json=body, headers={"Authorization": f"Bearer {stack.internal_token}"}, timeout=10)
    assert relayed.status_code == 200 and relayed.json()["delivered"] is True

    expect(page.locator(".nc-agent .nc-author")).to_have_text("Inès (conseiller) :")
    expect(page.locator(".nc-agent")).to_have_count(1)


def test_axe_finds_no_violation_on_the_portal_page_with_real_answers(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.web_url}/")
    closed = Axe().run(page)
    assert closed.violations_count == 0, json.dumps(closed.response["violations"], ensure_ascii=False)[:4000]
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour", timeout=ANSWER_TIMEOUT)
    page.locator("#nc-input").fill("comment avoir une carte Vitale")
    page.locator("#nc-input").press("Enter")
    page.get_by_role("button", name="Site officiel").last.click(timeout=ANSWER_TIMEOUT)
    expect(page.locator(".nc-bot a[href^='https://']").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    opened = Axe().run(page)
    assert opened.violations_count == 0, json.dumps(opened.response["violations"], ensure_ascii=False)[:4000]
