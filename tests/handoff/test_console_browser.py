"""The console in headless Chromium: log in with the keyboard-friendly form, take, reply, close; axe audit."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright, expect

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.store import HandoffQueue
from tests.conftest import free_port
from tests.handoff.helpers import fake_rasa, portal_settings, running_portal

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "un mot de passe de navigateur"


async def test_agent_logs_in_takes_replies_and_closes_in_the_browser(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'browser.db'}"
    AgentDirectory(get_engine(database_url)).create("alice", PASSWORD)
    queue = HandoffQueue(get_engine(database_url))
    request = queue.enqueue("web-7", "webchat", [], commune="Tourcoing", topic="procedure_housing_aid")
    async with fake_rasa() as rasa:
        rasa.events["web-7"] = [{"event": "user", "text": "Je n'arrive pas à faire ma demande CAF",
                                 "timestamp": 4_000_000_000.0}]
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(f"{url}/agents")
            await expect(page.get_by_role("heading", name="Connexion des agents")).to_be_visible()
            assert (await Axe().run(page)).violations_count == 0

            await page.get_by_label("Nom du compte").fill("alice")
            await page.get_by_label("Mot de passe").fill("pas le bon")
            await page.get_by_role("button", name="Se connecter").click()
            await expect(page.get_by_role("alert")).to_contain_text("Nom ou mot de passe incorrect")
            await page.get_by_label("Nom du compte").fill("alice")
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", name="Bonjour alice")).to_be_visible()

            take = page.get_by_role("button", name=f"Prendre la conversation n° {request.public_id[:6]}")
            await expect(take).to_be_visible(timeout=5000)
            await expect(page.locator("#queue")).to_contain_text("Tourcoing")
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()
            await take.click()
            await expect(page.get_by_role("log")).to_contain_text("Je n'arrive pas à faire ma demande CAF")
            await expect(page.get_by_role("log")).to_contain_text("écrit pendant l'attente")

            await page.get_by_label("Votre réponse").fill("Bonjour, je suis Alice. Je vous aide.")
            await page.get_by_role("button", name="Envoyer").click()
            await expect(page.get_by_role("status")).to_have_text("Message envoyé.")
            await expect(page.get_by_role("log")).to_contain_text("Bonjour, je suis Alice. Je vous aide.")
            assert rasa.relayed[-1]["text"] == "Bonjour, je suis Alice. Je vous aide."
            assert await page.get_by_label("Votre réponse").evaluate("el => el === document.activeElement")

            page.once("dialog", lambda dialog: dialog.accept())
            await page.get_by_role("button", name="Terminer la conversation").click()
            await expect(page.get_by_role("status")).to_contain_text("le robot a repris la main")
            await expect(page.get_by_role("button", name="Envoyer")).to_be_disabled()
            assert rasa.resumed("web-7")
            await browser.close()
