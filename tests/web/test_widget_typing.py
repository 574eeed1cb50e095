"""« … écrit… » in the widget, in Chromium against a scripted socket.io server: the person's typing is signalled
only to a person (never its text, at most once every 2 s), and « Inès écrit… » shows, is announced once, expires
after 5 s and gives way to the agent's message. Time is moved with Playwright's clock, never waited for."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.web.chat_fakes import DEMO_ORIGIN, FakeChatServer, echo_reply, serve_demo_page
from tests.web.test_widget_announcements import RECORD_ANNOUNCEMENTS_JS

pytestmark = pytest.mark.browser


class TypingChatServer(FakeChatServer):
    """The scripted server, also recording the widget's "typing" signals and able to send "agent_typing"."""

    def __init__(self) -> None:
        super().__init__(echo_reply)
        self.typing: list[Any] = []

    def _on_message(self, ws: WebSocketRoute, message: str) -> None:
        match = re.match(r"^42\d*(\[\"typing\".*)$", message, re.S)
        if match:
            self.typing.append(json.loads(match.group(1))[1])
            return
        super()._on_message(ws, message)

    def agent_typing(self, name: str) -> None:
        for ws in self.sockets:
            ws.send("42" + json.dumps(["agent_typing", {"agent": name}]))


@pytest.fixture
def server(page: Page) -> Iterator[TypingChatServer]:
    """The chat open on the demo page (with a controllable clock), greeting shown."""
    fake = TypingChatServer()
    fake.attach(page)
    serve_demo_page(page)
    page.clock.install()
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name="Écrire à Numécrivain").click()
    expect(page.locator(".nc-bot").first).to_contain_text("Reçu")
    page.evaluate(RECORD_ANNOUNCEMENTS_JS)
    yield fake


def say(page: Page, text: str) -> None:
    """Send a message and wait for the echo: every frame the widget sent before it has reached the server."""
    page.locator("#nc-input").press("Enter")
    expect(page.locator(".nc-bot").last).to_contain_text(f"Reçu : {text}")


def test_typing_is_signalled_only_to_a_person_without_its_text_once_per_two_seconds(
        page: Page, server: TypingChatServer) -> None:
    box = page.locator("#nc-input")
    box.press_sequentially("avec le robot", delay=5)
    say(page, "avec le robot")
    assert server.typing == []  # nobody but the robot on the other side: nothing is sent
    server.push({"id": "joined-1", "from": "agent", "agent": "Conseiller", "kind": "notice",
                 "text": "Inès, de l'équipe, a rejoint la conversation et va vous répondre."})
    expect(page.locator(".nc-note").last).to_contain_text("a rejoint")
    box.press_sequentially("mon brouillon", delay=5)
    say(page, "mon brouillon")
    assert server.typing == [{}]  # one signal for a burst of keys, and no text in it
    page.clock.fast_forward(2100)
    box.press_sequentially("la suite", delay=5)
    say(page, "la suite")
    assert server.typing == [{}, {}]


def test_agent_typing_shows_is_announced_once_expires_and_yields_to_the_message(
        page: Page, server: TypingChatServer) -> None:
    indicator = page.locator(".nc-typing")
    server.agent_typing("Inès")
    expect(indicator).to_have_text("Inès écrit…")
    expect(indicator).to_be_visible()
    page.clock.fast_forward(2000)
    server.agent_typing("Inès")  # the next signal, 2 s later: still shown, not announced again
    server.push({"id": "mark-1", "text": "Repère : le second signal est arrivé."})  # same socket: comes after it
    expect(page.locator(".nc-bot").last).to_contain_text("Repère")
    page.clock.fast_forward(4000)
    expect(indicator).to_be_visible()  # 6 s after the first signal, 4 s after the last
    said = page.evaluate("window.__said")
    assert [text for text in said if "écrit" in text] == ["Inès écrit…"]
    page.clock.fast_forward(1100)
    expect(indicator).to_be_hidden()

    server.agent_typing("Inès")
    expect(indicator).to_be_visible()
    server.push({"id": "agent-1", "text": "Bonjour, je suis Inès.", "from": "agent", "agent": "Inès"})
    expect(page.locator(".nc-agent")).to_contain_text("Bonjour, je suis Inès.")
    expect(indicator).to_be_hidden()  # the message ends « écrit… » at once
