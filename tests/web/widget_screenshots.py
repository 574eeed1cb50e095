"""Screenshots of the widget at the sizes people use, against the scripted server.

`python -m tests.web.widget_screenshots after` writes docs/screenshots/after-<size>.png. Not a test: it makes the
pictures of the docs; tests/web/test_widget_layout.py checks the same sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from tests.web.chat_fakes import DEMO_ORIGIN, FakeChatServer, serve_demo_page
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HUMAN = {"content_type": "text", "title": "Parler à une personne", "payload": "/request_human"}
GREETING: dict[str, Any] = {"text": "Bonjour ! Je suis Numécrivain. Écrivez votre question avec vos mots.",
            "quick_replies": [{"content_type": "text", "title": "Voir les sujets", "payload": "/help_menu"}, HUMAN]}
IDENTITY_TURN: list[dict[str, Any]] = [
    {"text": "**Carte d'identité perdue** : déclarez la perte en faisant la demande de nouvelle carte, "
             "en ligne sur ants.gouv.fr puis en mairie. Elle coûte 25 € (timbre fiscal)."},
    {"text": "Les étapes :\n1. Faites une pré-demande sur ants.gouv.fr.\n2. Prenez rendez-vous en mairie.\n"
             "3. Apportez vos documents au rendez-vous."},
    {"text": "Source : [service-public.fr](https://www.service-public.fr/particuliers/vosdroits/F1341)",
     "quick_replies": [{"content_type": "text", "title": "Documents à apporter", "payload": "/documents"},
                       {"content_type": "text", "title": "Sans Internet", "payload": "/offline"}, HUMAN]},
]
# (name, CSS viewport, device scale factor, extra): scale 2 and 4 on a 640×400 or 320×200 viewport are 200 % and
# 400 % browser zoom of a 1280×800 screen; extra is "keyboard" (phone keyboard open) or "big" ("Texte plus grand").
SIZES: list[tuple[str, ViewportSize, float, str | None]] = [
    ("360x740", {"width": 360, "height": 740}, 1, None),
    ("320x568", {"width": 320, "height": 568}, 1, None),
    ("zoom200-1280x800", {"width": 640, "height": 400}, 2, None),
    ("zoom400-1280x800", {"width": 320, "height": 200}, 4, None),
    ("desktop-1280x800", {"width": 1280, "height": 800}, 1, None),
    ("360x740-keyboard", {"width": 360, "height": 740}, 1, "keyboard"),
    ("360x740-big-text", {"width": 360, "height": 740}, 1, "big"),
    ("zoom200-big-text", {"width": 640, "height": 400}, 2, "big"),
]
# The same, with the options menu open: a phone, and 400 % zoom.
MENU_SIZES: list[tuple[str, ViewportSize, float]] = [
    ("360x740", {"width": 360, "height": 740}, 1),
    ("zoom400", {"width": 320, "height": 200}, 4),
]
# A phone keyboard takes this much of a 360×740 screen.
KEYBOARD_PX = 300
FAKE_KEYBOARD_JS = """(() => {
  const real = window.visualViewport;
  const fake = new EventTarget();
  let keyboard = 0;
  for (const name of ["width", "offsetLeft", "offsetTop", "pageLeft", "pageTop", "scale"]) {
    Object.defineProperty(fake, name, { get: () => real[name] });
  }
  Object.defineProperty(fake, "height", { get: () => real.height - keyboard });
  Object.defineProperty(window, "visualViewport", { get: () => fake, configurable: true });
  window.__openKeyboard = (px) => { keyboard = px; fake.dispatchEvent(new Event("resize")); };
})();"""
SHOW_KEYBOARD_JS = """(px) => { window.__openKeyboard(px);
  const k = document.createElement('div'); k.id = 'fake-keyboard'; k.textContent = 'clavier du téléphone';
  k.setAttribute('aria-hidden', 'true');
  k.style.cssText = 'position:fixed;left:0;right:0;bottom:0;height:' + px + 'px;background:rgba(40,40,40,.85);'
    + 'color:#fff;font:16px sans-serif;display:flex;align-items:center;justify-content:center;z-index:2147483647';
  document.body.appendChild(k); }"""


def conversation_bot(text: str) -> list[dict[str, Any]]:
    """A greeting, then a three-bubble answer to any question."""
    return [GREETING] if text == "/greet" else IDENTITY_TURN


def fill_chat(page: Page) -> None:
    """Open the chat and ask one question, as a resident would."""
    page.goto(f"{DEMO_ORIGIN}/")
    page.get_by_role("button", name="Écrire à Numécrivain").click()
    page.locator(".nc-bot").first.wait_for()
    page.locator("#nc-input").fill("j'ai perdu ma carte d'identité")
    page.locator("#nc-input").press("Enter")
    page.locator(".nc-bot").nth(3).wait_for()


def open_case(browser: Browser, viewport: ViewportSize, scale: float, extra: str | None
              ) -> tuple[BrowserContext, Page, FakeChatServer]:
    """A page at this size with the chat open after one question; extra: "keyboard" or "big"."""
    context = browser.new_context(locale="fr-FR", viewport=viewport, device_scale_factor=scale,
                                  is_mobile=scale == 1 and viewport["width"] < 400, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(FAKE_KEYBOARD_JS)
    server = FakeChatServer(conversation_bot)
    server.attach(page)
    serve_demo_page(page)
    fill_chat(page)
    if extra == "big":
        page.get_by_role("button", name="Menu des options").click()
        page.get_by_role("button", name="Texte plus grand").click()
        page.keyboard.press("Escape")
        page.locator("#nc-input").focus()
    if extra == "keyboard":
        page.locator("#nc-input").focus()
        page.evaluate(SHOW_KEYBOARD_JS, KEYBOARD_PX)
        page.locator("#fake-keyboard").wait_for()
    return context, page, server


def shoot(prefix: str) -> list[Path]:
    """Take every screenshot with this file prefix."""
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for name, viewport, scale, extra in SIZES:
            context, page, _ = open_case(browser, viewport, scale, extra)
            page.wait_for_timeout(300)  # let the typing dots and the scroll settle for the picture
            path = OUT / f"{prefix}-{name}.png"
            page.screenshot(path=str(path))
            written.append(path)
            context.close()
        for name, viewport, scale in MENU_SIZES:
            context, page, _ = open_case(browser, viewport, scale, None)
            page.get_by_role("button", name="Menu des options").click()
            path = OUT / f"{prefix}-{name}-menu-open.png"
            page.screenshot(path=str(path))
            written.append(path)
            context.close()
        browser.close()
    return written


FIGURES_JS = """() => { const r = document.querySelector('aside.numecrivain').shadowRoot, vh = visualViewport.height;
  const seen = (sel) => { const e = r.querySelector(sel); if (!e) return false; const b = e.getBoundingClientRect();
    return b.height > 0 && b.top >= 0 && b.bottom <= vh + 0.5; };
  const log = r.querySelector('.nc-log').getBoundingClientRect();
  const shown = Math.max(0, Math.min(log.bottom, vh) - Math.max(log.top, 0));
  return {messages_px: Math.round(shown), share: Math.round(100 * shown / vh) + ' %', title: seen('.nc-title'),
          fermer: seen('[aria-label="Fermer la discussion"]'), input: seen('#nc-input'),
          envoyer: seen('.nc-send')}; }"""


def figures() -> None:
    """Print, per size, the height of messages on screen and whether the title, Fermer, input and Envoyer are seen."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for name, viewport, scale, extra in SIZES:
            context = browser.new_context(locale="fr-FR", viewport=viewport, device_scale_factor=scale)
            page = context.new_page()
            page.add_init_script(FAKE_KEYBOARD_JS)
            FakeChatServer(conversation_bot).attach(page)
            serve_demo_page(page)
            fill_chat(page)
            if extra == "big":
                menu = page.get_by_role("button", name="Menu des options")
                if menu.count():  # older widgets had the switch in the header
                    menu.click()
                page.get_by_role("button", name="Texte plus grand").click()
            if extra == "keyboard":
                page.locator("#nc-input").focus()
                page.evaluate(f"window.__openKeyboard({KEYBOARD_PX})")
            page.wait_for_timeout(200)  # let the scroll settle before measuring
            print(name, page.evaluate(FIGURES_JS))
            context.close()
        browser.close()


if __name__ == "__main__":
    # `figures [widget folder]` measures (another version of) the widget; anything else is a screenshot prefix.
    if sys.argv[1:2] == ["figures"]:
        if len(sys.argv) > 2:
            import bot.web.widget
            bot.web.widget.WIDGET_DIR = Path(sys.argv[2])
        figures()
    else:
        for shot in shoot(sys.argv[1] if len(sys.argv) > 1 else "after"):
            print(shot)
