"""The web chat widget: its static files and a demo page that embeds it as any MEL page would."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.request import Request

from bot.channels.inputs import MAX_WEBCHAT_MESSAGE_CHARS
from bot.knowledge.contacts import phone_help, tel_uri
from bot.replies import HUMAN_BUTTON, PLACES_BUTTON

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


def embed_snippet(widget_base_url: str, rasa_url: str) -> str:
    """The two tags a MEL or town-hall page adds to show the chat (with a way to reach a person without it)."""
    src = html.escape(f"{widget_base_url.rstrip('/')}/widget/numecrivain.js")
    server = html.escape(rasa_url.rstrip("/"))
    name, phone, tel = (html.escape(part) for part in help_line())
    return (
        f'<script src="{src}" data-server="{server}" defer></script>\n'
        f'<noscript><p>Une question sur vos démarches ? Appelez {name} au '
        f'<a href="{tel}">{phone}</a>.</p></noscript>'
    )


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
    """A sober page in the MEL style, with the widget embedded by its one script tag."""
    snippet = embed_snippet("", rasa_url)
    help_name, help_phone, help_tel = (html.escape(part) for part in help_line())
    shown_snippet = html.escape(embed_snippet("https://www.exemple-mairie.fr", "https://chat.exemple-mel.fr"))
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vos démarches, avec de l'aide – Métropole Européenne de Lille</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/widget/demo.css">
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header class="site">
  <p class="brand"><span class="brand-mark" aria-hidden="true">MEL</span> Métropole Européenne de Lille</p>
  <nav aria-label="Menu principal"><ul>
    <li><a href="#contenu">Démarches</a></li><li><a href="#aide">Aide au numérique</a></li>
    <li><a href="#integrer">Intégrer le chat</a></li>
  </ul></nav>
</header>
<main id="contenu">
  <h1>Vos démarches, avec de l'aide</h1>
  <p class="lead">Une question sur une carte d'identité, la CAF, les impôts ou les déchets ?
  Numécrivain vous répond tout de suite, avec des mots simples. Une personne peut aussi vous aider.</p>
  <section id="aide" aria-labelledby="aide-titre">
    <h2 id="aide-titre">Trois façons d'être aidé</h2>
    <ul class="cards">
      <li><h3>Écrire à Numécrivain</h3><p>Le bouton en bas de la page ouvre la discussion.
        Il marche au clavier : touche Tab puis Entrée.</p></li>
      <li><h3>Appeler</h3><p>{help_name} : <a href="{help_tel}">{help_phone}</a>
        (renseignements sur les démarches administratives).</p></li>
      <li><h3>Venir sur place</h3><p>En mairie, dans un espace France Services ou un lieu de médiation numérique
        près de chez vous.</p></li>
    </ul>
  </section>
  <section id="integrer" aria-labelledby="integrer-titre">
    <h2 id="integrer-titre">Intégrer le chat sur le site d'une commune</h2>
    <p>Ajoutez ces lignes avant la fin de la page :</p>
    <pre tabindex="0"><code>{shown_snippet}</code></pre>
  </section>
</main>
<footer class="site"><p>Métropole Européenne de Lille – Numécrivain, assistant pour les démarches
dans les 95 communes.</p></footer>
{snippet}
</body>
</html>
"""


DEMO_CSS = """
body{margin:0;font:1rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,"Noto Sans",Arial,sans-serif;
color:#1b1b1b;background:#f6f7f9}
.skip{position:absolute;left:-999em}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5em;z-index:10}
a{color:#0b4aa2}a:focus,pre:focus{outline:3px solid #ffbf47;box-shadow:0 0 0 6px #1b1b1b}
header.site{background:#fff;border-bottom:4px solid #c4001a;padding:.75rem 1.5rem;display:flex;flex-wrap:wrap;
gap:1rem;align-items:center;justify-content:space-between}
.brand{margin:0;font-weight:700;font-size:1.1rem;display:flex;align-items:center;gap:.6em}
.brand-mark{background:#c4001a;color:#fff;padding:.15em .45em;border-radius:.2em;letter-spacing:.05em}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:1.25rem}
main{max-width:48rem;margin:0 auto;padding:1.5rem 1.5rem 8rem}
h1{font-size:2rem;line-height:1.25;margin:.5rem 0 1rem}.lead{font-size:1.15rem}
.cards{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem}
.cards li{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;padding:1rem}.cards h3{margin:0 0 .4rem}
pre{background:#fff;border:1px solid #5f6b7a;border-radius:.5rem;padding:1rem;overflow:auto;white-space:pre-wrap;
overflow-wrap:anywhere}
footer.site{background:#1d3f72;color:#fff;padding:1rem 1.5rem}footer.site p{margin:0;max-width:48rem}
"""


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
