"""Browser fixtures for the widget: Debian's chromium through Playwright, one browser per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# The demo page is served on a fake public origin while the web chat server of the test listens on 127.0.0.1:
# chromium's local network access checks would block that connection (a real chat server is public).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-features=LocalNetworkAccessChecks"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium for one test module (sync Playwright holds an event loop: asyncio tests need it gone)."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: run 'make browser' (make test does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (empty localStorage) in French, on a laptop-sized screen."""
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any script error."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert errors == [], f"script errors in the page: {errors}"


FOCUSED_JS = """() => { let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? {tag: a.tagName.toLowerCase(), text: (a.textContent || '').trim(), id: a.id || '',
              label: a.getAttribute('aria-label') || ''} : null; }"""


def focused(page: Page) -> dict[str, str]:
    """The element that has the keyboard focus, looking inside the widget's shadow root."""
    return page.evaluate(FOCUSED_JS)


def tab_to(page: Page, text: str, limit: int = 40) -> dict[str, str]:
    """Press Tab until a control whose text contains `text` has the focus (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now and now["tag"] in ("button", "a", "textarea") and text in (now["text"] + now["label"]):
            return now
    raise AssertionError(f"'{text}' never got the focus with Tab")
