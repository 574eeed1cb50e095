"""The satisfaction question in the real widget (headless Chromium, scripted socket.io server): three buttons under
the robot's question, a click sends the survey payload marked as a button and shows the answer as the person's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from bot.handoff.survey import QUESTION, THANKS, web_buttons
from bot.handoff.transcript import SYSTEM_AUTHOR
from tests.web.chat_fakes import DEMO_ORIGIN, FakeChatServer, serve_demo_page
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def survey_bot(text: str) -> list[dict[str, Any]]:
    """Greets, and thanks a survey answer as the web chat channel does."""
    if text.startswith("/handoff_survey_"):
        return [{"text": THANKS}]
    if text == "/greet":
        return [{"text": "Bonjour ! Je suis Numécrivain. Écrivez votre question avec vos mots."}]
    return [{"text": f"Réponse à : {text}"}]


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        opened = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740}).new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        yield opened
        browser.close()
        assert errors == [], f"script errors in the page: {errors}"


def test_resident_answers_the_survey_with_one_tap_and_may_just_go_on(page: Page) -> None:
    server = FakeChatServer(survey_bot)
    server.attach(page)
    serve_demo_page(page)
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name="Écrire à Numécrivain").click()
    expect(page.locator(".nc-bot").first).to_contain_text("Bonjour")
    # What POST /webhooks/webchat/agent_message emits for the question asked after the agent's goodbye.
    server.push({"id": "survey-1", "text": QUESTION, "from": "agent", "agent": SYSTEM_AUTHOR, "handoff_ended": True,
                 "quick_replies": [{"content_type": "text", **button} for button in web_buttons()]})
    question = page.locator("[data-id='survey-1']")
    expect(question).to_contain_text(QUESTION)
    choices = question.get_by_role("group", name="Choix proposés").get_by_role("button")
    expect(choices).to_have_text(["Oui", "En partie", "Non"])
    audit = Axe().run(page)
    assert audit.violations_count == 0, audit.generate_report()
    choices.nth(1).click()
    expect(page.locator(".nc-user").last).to_contain_text("En partie")
    expect(page.locator(".nc-bot").last).to_contain_text(THANKS)
    answer = server.user_messages[-1]
    assert answer["message"] == "/handoff_survey_2" and answer["metadata"]["button"] is True
    page.locator("#nc-input").fill("et pour un passeport ?")  # answering is never required to go on
    page.locator("#nc-input").press("Enter")
    expect(page.locator(".nc-bot").last).to_contain_text("Réponse à : et pour un passeport ?")
