"""The web chat widget: its static files and a demo page that embeds it as any MEL page would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.request import Request

from bot.channels.inputs import MAX_WEBCHAT_MESSAGE_CHARS
from bot.knowledge.contacts import phone_help, tel_uri
from bot.replies import HUMAN_BUTTON, PLACES_BUTTON
from bot.web.templating import render

WIDGET_DIR = Path(__file__).parent / "static" / "widget"
WIDGET_FILES = ("numecrivain.js", "numecrivain.css")
# The widget's JavaScript has `null` between these markers; the server puts in what it shares with the bot
# (shared_texts), so that the number, the button title and the limit are each written once.
SHARED_MARKERS = ("/*server-texts*/", "/*end-server-texts*/")


def help_line() -> tuple[str, str, str]:
    """(name, number as written, tel: URI) of the line to call when the chat cannot help."""
    contact = phone_help()
    phone = contact.phone or ""
    return contact.name, phone, tel_uri(phone)


def shared_texts() -> dict[str, object]:
    """What the widget shows or sends that the bot also uses: the help line, two choices, the message limit."""
    contact_name, phone, tel = help_line()
    return {
        "help": {"name": contact_name, "phone": phone, "tel": tel},
        "human": HUMAN_BUTTON.as_dict(),
        "places": PLACES_BUTTON.as_dict(),
        "max_chars": MAX_WEBCHAT_MESSAGE_CHARS,
    }


def widget_source(name: str) -> str:
    """A widget file's text; the JavaScript gets shared_texts() between its markers."""
    text = (WIDGET_DIR / name).read_text(encoding="utf-8")
    if not name.endswith(".js"):
        return text
    start, end = SHARED_MARKERS
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    data = json.dumps(shared_texts(), ensure_ascii=False)
    data = data.replace("</", "<\\/")  # never close a <script> element early
    return f"{before}{start}{data}{end}{after}"


def _help_context() -> dict[str, str]:
    """The help line as the templates show it (name, number as written, tel: URI)."""
    name, phone, tel = help_line()
    return {"name": name, "phone": phone, "tel": tel}


def _embed_urls(widget_base_url: str, rasa_url: str) -> dict[str, str]:
    """Where the page finds the widget's script and the chat server, as the embed snippet writes them."""
    return {"script_url": f"{widget_base_url.rstrip('/')}/widget/numecrivain.js", "server": rasa_url.rstrip("/")}


def embed_snippet(widget_base_url: str, rasa_url: str) -> str:
    """The two tags a MEL or town-hall page adds to show the chat (with a way to reach a person without it)."""
    return render("widget/embed_snippet.html", help=_help_context(), **_embed_urls(widget_base_url, rasa_url))


def content_security_policy(rasa_url: str) -> str:
    """Only this portal and the chat server: the page makes no third-party request."""
    parts = urlsplit(rasa_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    chat = f"{parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; connect-src 'self' {chat}; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def demo_page(rasa_url: str) -> str:
    """A sober page in the MEL style, with the widget embedded by its one script tag (and that tag shown)."""
    return render("widget/demo.html", help=_help_context(), embed=_embed_urls("", rasa_url),
                  example=_embed_urls("https://www.exemple-mairie.fr", "https://chat.exemple-mel.fr"))


DEMO_CSS = (WIDGET_DIR / "demo.css").read_text(encoding="utf-8")  # the demo page's look, not the widget's


def register(app: Sanic) -> None:
    """Serve the demo page at / and the widget's files under /widget/."""

    @app.get("/", name="widget_demo_page")
    async def demo(request: Request) -> response.HTTPResponse:
        # Behind nginx (make run-prod) the widget talks to the public address, not to Rasa's internal one.
        rasa_url = os.environ.get("NUMECRIVAIN_PUBLIC_CHAT_URL", "").strip() or request.app.ctx.settings.rasa_url
        return response.html(
            demo_page(rasa_url),
            headers={"Content-Security-Policy": content_security_policy(rasa_url), "Referrer-Policy": "no-referrer"},
        )

    @app.get("/widget/demo.css", name="widget_demo_css")
    async def demo_css(_: Request) -> response.HTTPResponse:
        return response.text(DEMO_CSS, content_type="text/css; charset=utf-8")

    @app.get("/widget/<name:str>", name="widget_file")
    async def widget_file(_: Request, name: str) -> response.HTTPResponse:
        if name not in WIDGET_FILES:
            return response.json({"error": "not found"}, status=404)
        content_type = "text/javascript" if name.endswith(".js") else "text/css"
        return response.text(
            widget_source(name),
            content_type=f"{content_type}; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
        )
