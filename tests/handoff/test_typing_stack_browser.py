"""« … écrit… » both ways and the person's messages pushed, on the real stack, in Chromium: the person in the widget
(the portal's demo page, socket.io to Rasa), the agent in the console (server-sent events). The stack re-reads no
conversation from Rasa (NUMECRIVAIN_CONSOLE_RESYNC_SECONDS=0 in tests/conftest.py): the message can only come
pushed. Expiry is shown with Playwright's clock, not by waiting; axe audits the console with the indicator shown."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import WebSocket, async_playwright, expect

from bot.db import get_engine
from bot.handoff.store import HandoffQueue
from tests.handoff.agent_client import create_agent
from tests.handoff.test_console_browser import CHROMIUM_ARGS
from tests.web.test_widget_announcements import RECORD_ANNOUNCEMENTS_JS  # what a screen reader is handed

pytestmark = [pytest.mark.stack, pytest.mark.browser]
PASSWORD = "mot de passe de l'agent qui écrit"
ANSWER_MS = 60_000


async def test_typing_shows_both_ways_expires_and_the_person_message_arrives_pushed(stack, tmp_path: Path) -> None:
    create_agent(stack.env, "ines.typing", PASSWORD)
    shots = Path(os.environ.get("NUMECRIVAIN_SCREENSHOT_DIR") or tmp_path)
    marker = uuid.uuid4().hex[:6]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        console = await browser.new_page(viewport={"width": 1280, "height": 900})
        widget = await browser.new_page(viewport={"width": 420, "height": 760})
        await console.clock.install()  # time flows, and fast_forward() jumps over the 5 s an indicator lasts
        await widget.clock.install()
        agent_signals: list[str] = []  # what the widget's socket receives of the agent's typing

        def on_socket(ws: WebSocket) -> None:
            def on_frame(frame: str | bytes) -> None:
                if isinstance(frame, str) and frame.startswith('42["agent_typing"'):
                    agent_signals.append(frame)
            ws.on("framereceived", on_frame)
        widget.on("websocket", on_socket)
        available = console.get_by_label("Je suis disponible pour répondre")
        try:
            await console.goto(f"{stack.web_url}/agents")
            await console.get_by_label("Nom du compte").fill("ines.typing")
            await console.get_by_label("Mot de passe").fill(PASSWORD)
            await console.keyboard.press("Enter")
            await available.check()
            await expect(console.get_by_role("status")).to_have_text("Vous êtes disponible.")

            await widget.goto(f"{stack.web_url}/")
            await widget.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
            await expect(widget.locator(".nc-bot").first).to_contain_text("Bonjour", timeout=ANSWER_MS)
            await widget.locator("#nc-input").fill(f"je voudrais parler à un conseiller {marker}")
            await widget.locator("#nc-input").press("Enter")
            await expect(widget.locator(".nc-bot").last).to_contain_text("file d'attente", timeout=ANSWER_MS)
            state = json.loads(await widget.evaluate(f"sessionStorage.getItem('numecrivain:{stack.rasa_url}')"))
            sender = "web:" + state["sid"].split(".")[0]
            request = HandoffQueue(get_engine(stack.database_url)).open_request_for(sender)
            assert request is not None
            await console.get_by_role("button", name=f"Prendre la conversation n° {request.public_id[:6]}").click()
            log = console.get_by_role("log")
            await expect(log).to_contain_text(marker)
            await expect(widget.locator(".nc-note").last).to_contain_text("a rejoint la conversation", timeout=20000)
            await widget.evaluate(RECORD_ANNOUNCEMENTS_JS)

            # The person types: the agent sees that they do, never what.
            person_typing = console.locator("#typing")
            await widget.locator("#nc-input").press_sequentially("brouillon pas encore envoyé", delay=10)
            await expect(person_typing).to_have_text("La personne écrit…")
            await expect(person_typing).to_be_visible()
            assert "brouillon" not in await console.content()
            audit = await Axe().run(console)
            assert audit.violations_count == 0, audit.generate_report()
            await console.screenshot(path=str(shots / "console-person-typing.png"), full_page=True)
            await console.clock.fast_forward(5100)
            await expect(person_typing).to_be_hidden()

            # The message itself arrives pushed (the console does not re-read Rasa on this stack).
            await widget.locator("#nc-input").fill(f"voici ma question {marker}")
            await widget.locator("#nc-input").press("Enter")
            await expect(log).to_contain_text(f"voici ma question {marker}", timeout=10000)

            # The agent types: the person sees « Ines écrit… », announced once, and never the words.
            reply = console.get_by_label("Votre réponse")
            await reply.press_sequentially("Je regarde votre dossier", delay=10)
            agent_typing = widget.locator(".nc-typing")
            await expect(agent_typing).to_have_text("Ines écrit…")
            await expect(agent_typing).to_be_visible()
            await widget.screenshot(path=str(shots / "widget-agent-typing.png"))
            assert len(agent_signals) == 1 and "regarde" not in agent_signals[0] and "dossier" not in agent_signals[0]
            await widget.wait_for_function("() => window.__said.some(text => text.includes('écrit'))")
            said = await widget.evaluate("window.__said")
            assert [text for text in said if "écrit" in text] == ["Ines écrit…"], said
            await widget.clock.fast_forward(5100)
            await expect(agent_typing).to_be_hidden()
        finally:
            await available.uncheck()  # other tests must not find a person available
            await browser.close()
