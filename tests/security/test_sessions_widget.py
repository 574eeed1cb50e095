"""The widget on a shared computer: history only in this tab, forgotten on "Fermer", after a handoff and when idle."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.chat_fakes import DEMO_ORIGIN, echo_reply, serve_demo_page
from tests.web.chat_server import LiveChatServer

pytestmark = pytest.mark.browser

PRIVATE = "mon numéro fiscal 1234567890123"
KEY = ""  # the widget's storage key: "numecrivain:" and the chat server's URL, set by the fixture


@pytest.fixture
def server(page: Page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LiveChatServer]:
    """The real web chat channel with an echoing bot, behind the demo page."""
    live = LiveChatServer(echo_reply, monkeypatch, f"sqlite:///{tmp_path / 'numecrivain.db'}")
    monkeypatch.setattr(f"{__name__}.KEY", f"numecrivain:{live.url}")
    serve_demo_page(page, live.url)
    yield live
    live.close()


def start_and_say(page: Page, text: str, answered: str | None = None) -> None:
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    expect(page.locator(".nc-bot").first).to_contain_text("Reçu : /greet")
    page.locator("#nc-input").fill(text)
    page.locator("#nc-input").press("Enter")
    expect(page.locator(".nc-bot").last).to_contain_text(answered or f"Reçu : {text}")


def stored(page: Page) -> str:
    """Everything the widget keeps in the browser, in both storages."""
    return str(page.evaluate(f"[sessionStorage.getItem('{KEY}'), localStorage.getItem('{KEY}')]"))


def test_history_is_kept_in_this_tab_only_never_in_local_storage(page: Page, server: LiveChatServer) -> None:
    start_and_say(page, PRIVATE)
    assert PRIVATE in str(page.evaluate(f"sessionStorage.getItem('{KEY}')"))
    assert page.evaluate(f"localStorage.getItem('{KEY}')") is None
    other_tab = page.context.new_page()
    serve_demo_page(other_tab, server.url)
    try:
        other_tab.goto(f"{DEMO_ORIGIN}/")
        other_tab.wait_for_function(f"() => sessionStorage.getItem('{KEY}') !== null")  # its own session, confirmed
        theirs = json.loads(other_tab.evaluate(f"sessionStorage.getItem('{KEY}')"))
        mine = json.loads(page.evaluate(f"sessionStorage.getItem('{KEY}')"))
        assert theirs["msgs"] == [] and PRIVATE not in str(theirs) and theirs["sid"] != mine["sid"]
    finally:
        other_tab.close()


def test_close_button_forgets_the_conversation_and_the_session(page: Page, server: LiveChatServer) -> None:
    start_and_say(page, PRIVATE)
    requests_before = len(server.session_requests)
    page.get_by_role("button", name="Fermer la discussion").click()
    assert PRIVATE not in stored(page)
    page.reload()
    page.get_by_role("button", name=re.compile("Écrire à Numécrivain")).click()
    expect(page.locator(".nc-bot").first).to_contain_text("Reçu : /greet")
    expect(page.locator(".nc-user")).to_have_count(0)
    # The next request after "Fermer" asks for a new session, never the previous person's.
    assert server.session_requests[requests_before] is None


def test_escape_only_hides_the_chat(page: Page, server: LiveChatServer) -> None:
    start_and_say(page, "ma carte vitale")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert "ma carte vitale" in stored(page)


def test_end_of_a_handoff_stops_keeping_the_conversation(page: Page, server: LiveChatServer) -> None:
    start_and_say(page, PRIVATE)
    server.push({"id": "end-1", "text": "Vous reparlez avec Numécrivain.", "from": "agent", "agent": "Numécrivain",
                 "handoff_ended": True})
    expect(page.locator(".nc-bot").last).to_contain_text("Vous reparlez avec Numécrivain.")  # the robot, not a person
    page.locator("#nc-input").fill("merci")
    page.locator("#nc-input").press("Enter")
    expect(page.locator(".nc-bot").last).to_contain_text("Reçu : merci")
    assert PRIVATE not in stored(page) and "merci" not in stored(page)
    requests_before = len(server.session_requests)
    page.reload()
    expect(page.get_by_role("dialog")).to_be_hidden()
    page.wait_for_function(f"() => sessionStorage.getItem('{KEY}') !== null")  # the new session is confirmed
    assert server.session_requests[requests_before] is None


def test_idle_conversation_is_erased(page: Page, server: LiveChatServer) -> None:
    page.clock.install()
    start_and_say(page, PRIVATE)
    page.clock.fast_forward("16:00")
    expect(page.locator(".nc-msg", has_text=PRIVATE)).to_have_count(0)
    expect(page.locator(".nc-note")).to_contain_text("Conversation effacée")
    assert PRIVATE not in stored(page)


def test_typed_slash_text_is_sent_without_the_button_mark(page: Page, server: LiveChatServer) -> None:
    start_and_say(page, "/restart", answered="Reçu : restart")
    assert server.attempts[-1]["message"] == "/restart"
    assert "button" not in server.attempts[-1]["metadata"]
    assert server.texts == ["/greet", "restart"]  # so the channel hands the bot the word, never the intent
    assert server.attempts[0]["metadata"]["button"] is True  # the greeting the widget itself sends
