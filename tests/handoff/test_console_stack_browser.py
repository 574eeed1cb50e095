"""The whole path on the real stack: a web chat user (socket.io, as the widget) asks for a person; the agent, in
Chromium, is alerted, takes, reads the person's next message live, answers; the person is told who joined."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import async_playwright, expect

from tests.handoff.agent_client import create_agent
from tests.handoff.test_console_browser import CHROMIUM_ARGS
from tests.web.socketio_client import SocketIOClient

pytestmark = [pytest.mark.stack, pytest.mark.browser]
PASSWORD = "mot de passe du navigateur e2e"


async def test_agent_in_chromium_serves_a_web_chat_user_live_on_the_real_stack(stack):
    create_agent(stack.env, "agent.live", PASSWORD)
    marker = uuid.uuid4().hex[:6]
    async with async_playwright() as playwright, SocketIOClient(stack.rasa_url) as chat:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(f"{stack.web_url}/agents")
        await page.get_by_label("Nom du compte").fill("agent.live")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.keyboard.press("Enter")
        available = page.get_by_label("Je suis disponible pour répondre")
        await available.check()
        await expect(page.get_by_role("status")).to_have_text("Vous êtes disponible.")
        try:
            token = await chat.start_session(None)
            await chat.emit("user_uttered", {"message": "je voudrais parler à un conseiller", "session_id": token})
            await chat.wait_for("bot_uttered", 1, timeout=60)
            await expect(page.get_by_role("status")).to_contain_text("dans la file d'attente", timeout=20000)
            await chat.emit("user_uttered", {"message": f"c'est pour ma carte vitale {marker}", "session_id": token})

            waiting = (await (await page.request.get(f"{stack.web_url}/agents/api/queue")).json())["waiting"]
            for item in waiting:
                details = await (await page.request.get(f"{stack.web_url}/agents/api/requests/{item['id']}")).json()
                if any(marker in m["text"] for m in details["messages"]):
                    break
            else:
                raise AssertionError("the request is not in the queue")
            seen = len([name for name, _ in chat.events if name == "bot_uttered"])  # the bot's "queued" answer
            await page.get_by_role("button", name=f"Prendre la conversation n° {item['id'][:6]}").click()
            log = page.get_by_role("log")
            await expect(log).to_contain_text(f"carte vitale {marker}")
            seen += 1
            joined = (await chat.wait_for("bot_uttered", seen, timeout=20))[-1]
            assert joined["kind"] == "notice" and "a rejoint la conversation" in joined["text"]

            await chat.emit("user_uttered", {"message": f"je suis toujours là {marker}", "session_id": token})
            await expect(log).to_contain_text(f"je suis toujours là {marker}", timeout=10000)
            await expect(page.locator("#resident")).to_contain_text("a la conversation ouverte")

            await page.get_by_label("Votre réponse").fill("Bonjour, je regarde votre carte Vitale.")
            await page.get_by_role("button", name="Envoyer").click()
            received = (await chat.wait_for("bot_uttered", seen + 1, timeout=20))[-1]
            assert received["text"] == "Bonjour, je regarde votre carte Vitale."
            assert received["from"] == "agent" and received["agent"] == "Agent"  # display name, never the login

            page.once("dialog", lambda dialog: dialog.accept())
            await page.get_by_role("button", name="Terminer la conversation").click()
            await expect(page.get_by_role("status")).to_contain_text("le robot a repris la main")
            goodbye = (await chat.wait_for("bot_uttered", seen + 2, timeout=20))[-1]
            assert goodbye.get("handoff_ended") is True
        finally:
            await available.uncheck()  # other tests must not find a person available
            await browser.close()
