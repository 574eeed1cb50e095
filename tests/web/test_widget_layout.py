"""The widget at every size people use: phones, 200 % and 400 % zoom, phone keyboard open, "Texte plus grand"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import focused
from tests.web.widget_screenshots import KEYBOARD_PX, SIZES, open_case

pytestmark = pytest.mark.browser

GEOMETRY_JS = """() => {
  const root = document.querySelector('aside.numecrivain').shadowRoot;
  const box = (sel) => { const r = root.querySelector(sel).getBoundingClientRect();
                         return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const panel = root.querySelector('.nc-panel'), log = root.querySelector('.nc-log');
  return {
    visible: {width: window.visualViewport.width, height: window.visualViewport.height},
    title: box('.nc-title'), close: box('[aria-label="Fermer la discussion"]'), menu: box('.nc-menu-button'),
    input: box('#nc-input'), send: box('.nc-send'),
    panelScroll: {sw: panel.scrollWidth, cw: panel.clientWidth, sh: panel.scrollHeight, ch: panel.clientHeight},
    logScroll: {sw: log.scrollWidth, cw: log.clientWidth, sh: log.scrollHeight, ch: log.clientHeight},
    pageScroll: {sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth},
  };
}"""
CASES = [case for case in SIZES if case[0] != "desktop-1280x800"]


@pytest.fixture(scope="module", params=CASES, ids=[case[0] for case in CASES])
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """The chat open after a three-bubble answer, at one of the sizes (read only: shared by the tests of a size)."""
    _, viewport, scale, extra = request.param
    context, page, _ = open_case(browser, viewport, scale, extra)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def inside(rect: dict[str, float], visible: dict[str, float]) -> bool:
    """Whether a box lies entirely in the visible part of the screen."""
    return rect["top"] >= 0 and rect["left"] >= 0 and rect["bottom"] <= visible["height"] + 0.5 \
        and rect["right"] <= visible["width"] + 0.5


def test_header_input_and_send_are_visible_and_only_the_messages_scroll(sized_page: Page) -> None:
    shape = sized_page.evaluate(GEOMETRY_JS)
    visible = shape["visible"]
    for part in ("title", "close", "menu", "input", "send"):
        assert inside(shape[part], visible), (part, shape[part], visible)
    header_line = shape["close"]["bottom"] - shape["close"]["top"]
    assert shape["title"]["bottom"] - shape["title"]["top"] <= header_line, "the title wraps onto two lines"
    assert shape["title"]["top"] < shape["close"]["bottom"] and shape["menu"]["top"] < shape["close"]["bottom"]
    assert shape["panelScroll"]["sw"] <= shape["panelScroll"]["cw"], "horizontal scrolling in the chat"
    assert shape["logScroll"]["sw"] <= shape["logScroll"]["cw"], "horizontal scrolling in the messages"
    assert shape["pageScroll"]["sw"] <= shape["pageScroll"]["cw"], "horizontal scrolling in the page"
    assert shape["panelScroll"]["sh"] <= shape["panelScroll"]["ch"], "the whole panel scrolls, not only the messages"
    assert shape["logScroll"]["sh"] > shape["logScroll"]["ch"], "the messages should scroll at this size"
    assert shape["logScroll"]["ch"] >= 60, "less than three lines of messages remain"


def test_axe_finds_no_violation_at_this_size(sized_page: Page) -> None:
    results = Axe().run(sized_page)
    assert results.violations_count == 0, json.dumps(results.response["violations"], ensure_ascii=False)[:4000]


def test_tools_menu_opens_with_the_keyboard_and_escape_closes_it(browser: Browser) -> None:
    context, page, _ = open_case(browser, {"width": 320, "height": 568}, 1, None)
    try:
        menu = page.get_by_role("button", name="Menu des options")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("button", name="Texte plus grand")).to_be_hidden()
        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        assert focused(page)["text"] == "Texte plus grand"
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Texte plus grand")).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("Escape")
        expect(page.get_by_role("button", name="Texte plus grand")).to_be_hidden()
        assert focused(page)["label"] == "Menu des options"
        expect(page.get_by_role("dialog", name="Numécrivain")).to_be_visible()  # Escape closed only the menu
    finally:
        context.close()


def test_actions_join_the_menu_at_400_percent_and_keep_working(browser: Browser) -> None:
    context, page, server = open_case(browser, {"width": 320, "height": 200}, 4, None)
    try:
        expect(page.get_by_role("button", name="Parler à une personne")).to_be_hidden()
        page.get_by_role("button", name="Menu des options").click()
        page.get_by_role("button", name="Parler à une personne").click()
        expect(page.locator(".nc-user").last).to_contain_text("Parler à une personne")
        assert server.texts[-1] == "/request_human"
    finally:
        context.close()


def test_closing_the_phone_keyboard_gives_the_room_back(browser: Browser) -> None:
    context, page, _ = open_case(browser, {"width": 360, "height": 740}, 1, "keyboard")
    try:
        panel = page.locator(".nc-panel")
        with_keyboard = panel.bounding_box()
        assert with_keyboard and with_keyboard["height"] == 740 - KEYBOARD_PX
        page.evaluate("window.__openKeyboard(0)")
        expect(panel).to_have_js_property("clientHeight", 740)
    finally:
        context.close()


def test_a_long_message_grows_the_input_but_keeps_the_header_and_messages_on_screen(browser: Browser) -> None:
    context, page, _ = open_case(browser, {"width": 320, "height": 200}, 4, None)
    try:
        before = page.locator("#nc-input").bounding_box()
        page.locator("#nc-input").fill("Bonjour, je voudrais savoir comment refaire ma carte d'identité. " * 5)
        page.locator("#nc-input").dispatch_event("input")
        after = page.locator("#nc-input").bounding_box()
        assert before and after and after["height"] > before["height"]
        shape = page.evaluate(GEOMETRY_JS)
        for part in ("title", "close", "input", "send"):
            assert inside(shape[part], shape["visible"]), part
        assert shape["panelScroll"]["sh"] <= shape["panelScroll"]["ch"]
        assert shape["logScroll"]["ch"] >= 30, "the messages disappeared behind the input"
    finally:
        context.close()
