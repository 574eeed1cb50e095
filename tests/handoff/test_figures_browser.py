"""The service figures in headless Chromium, on the agents' figures page and on the council's usage page: five SVG
charts drawn by the server, each with its table, satisfaction per agent for an admin only, axe with no violation,
readable on a phone and at 200 % zoom (screenshots kept when asked)."""

from __future__ import annotations

import os
import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, async_playwright, expect

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook
from bot.handoff.store import CLOSED_BY_AGENT, USER_LEFT, WAIT_TIMEOUT, HandoffQueue
from bot.handoff.survey import NO, PARTLY, YES, SurveyBook
from bot.secretariat.tokens import create_token
from tests.conftest import free_port
from tests.handoff.helpers import fake_rasa, portal_settings, running_portal

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "un mot de passe de navigateur"
CHARTS = ("Demandes par jour", "Temps d'attente par jour", "Rappels faits par jour", "Satisfaction par jour",
          "Demandes par canal sur la période")
# NUMECRIVAIN_SCREENSHOTS=docs/screenshots keeps the pictures for the documentation.
SHOTS = os.environ.get("NUMECRIVAIN_SCREENSHOTS", "")


def scripted_week(database_url: str) -> None:
    """Five days of requests at 10:00 in Lille (naive UTC as stored), answered, abandoned, expired, surveyed."""
    engine = get_engine(database_url)
    queue, surveys, callbacks = HandoffQueue(engine), SurveyBook(engine), CallbackBook(engine)
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    for back in range(5):
        ten = datetime.combine(today - timedelta(days=back), time(10), ZoneInfo("Europe/Paris"))
        start = ten.astimezone(timezone.utc).replace(tzinfo=None)
        for index, channel in enumerate(("webchat", "sms", "webchat", "webchat")):
            at = start + timedelta(minutes=30 * index)
            request = queue.enqueue(f"{channel}-{back}-{index}", channel, [], now=at)
            if index == 3 and back % 2:
                queue.close(request.id, USER_LEFT if back == 1 else WAIT_TIMEOUT, now=at + timedelta(minutes=9))
                continue
            agent = "alice" if index % 2 else "bob"
            queue.take(request.id, agent, now=at + timedelta(minutes=1 + 2 * index + back),
                       display_name=agent.capitalize())
            closed = queue.close(request.id, CLOSED_BY_AGENT, agent_name=agent, now=at + timedelta(minutes=20))
            surveys.mark_asked(closed, now=at + timedelta(minutes=20))
            answer = (YES, PARTLY, YES, NO)[(index + back) % 4]
            surveys.answer(closed.sender_id, answer, now=at + timedelta(minutes=21))
        done = callbacks.add("06 12 34 56 78", "webchat", "Lille", None, now=start)
        callbacks.done(done.id, now=start + timedelta(hours=2 if back % 3 else 30))


async def shoot(page: Page, tmp_path: Path, name: str) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    await page.screenshot(path=str(path), full_page=False)
    return path


async def test_figures_and_usage_pages_show_five_charts_with_tables_and_pass_axe_on_a_phone(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'figures.db'}"
    directory = AgentDirectory(get_engine(database_url))
    directory.create("alice", PASSWORD, role="admin", display_name="Alice")
    directory.create("bob", PASSWORD, display_name="Bob")
    scripted_week(database_url)
    council = create_token(get_engine(database_url), "Métropole", is_admin=True)
    async with fake_rasa() as rasa:
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            phone = await browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
            page = await phone.new_page()
            await page.goto(f"{url}/agents/login")
            await page.get_by_label("Nom du compte").fill("alice")
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", name="Bonjour Alice")).to_be_visible()
            await page.get_by_role("link", name="Chiffres du service").click()
            for chart in CHARTS:
                await expect(page.get_by_role("img", name=chart)).to_be_visible()
            satisfaction = page.get_by_role("table", name="Satisfaction par jour")
            await expect(satisfaction.get_by_role("row")).to_have_count(8)  # header + 7 days
            agents = page.get_by_role("table", name="Satisfaction par agent (réservé aux administrateurs)")
            await expect(agents.get_by_role("row")).to_have_count(3)
            await expect(agents.get_by_role("row").nth(1)).to_contain_text("Alice")
            await expect(page.get_by_text("18 réponses sur 18 questions posées")).to_be_visible()
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert await page.locator("script").count() == 0  # charts drawn by the server, no script at all
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()
            await shoot(page, tmp_path, "figures-360x740.png")
            await page.get_by_role("heading", name="Satisfaction", exact=True).scroll_into_view_if_needed()
            await shoot(page, tmp_path, "figures-360x740-satisfaction.png")

            # 200 % zoom of a 1280×800 screen: 640×400 CSS pixels, each drawn twice as large.
            zoomed = await browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2,
                                               storage_state=await phone.storage_state())
            page = await zoomed.new_page()
            await page.goto(f"{url}/agents/figures")
            await expect(page.get_by_role("img", name="Demandes par jour")).to_be_visible()
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            await page.get_by_role("heading", name="Temps d'attente", exact=True).evaluate(
                "node => node.scrollIntoView()")
            await shoot(page, tmp_path, "figures-zoom200-1280x800.png")

            # The council's usage page (administration code): the same charts, drawn by the server, as images.
            page = await phone.new_page()
            await page.goto(f"{url}/secretariat/usage")
            await page.get_by_label("Code d'accès administrateur").fill(council)
            await page.get_by_role("button", name="Se connecter").click()
            await expect(page.get_by_role("heading", name="Service d'aide par une personne")).to_be_visible()
            for chart in CHARTS:
                await expect(page.get_by_role("img", name=re.compile(f"^{re.escape(chart)}\\."))).to_be_visible()
            await expect(page.get_by_role("table", name="Satisfaction par jour").get_by_role("row")).to_have_count(31)
            await expect(page.get_by_text("18 réponses sur 18 questions posées")).to_be_visible()
            assert "Alice" not in await page.locator("main").inner_text()  # no agent named to the council
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()
            await page.get_by_role("heading", name="Service d'aide par une personne").evaluate(
                "node => node.scrollIntoView()")
            await shoot(page, tmp_path, "usage-service-360x740.png")
            await browser.close()
