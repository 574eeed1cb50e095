"""Sobriety and embedding: the widget's weight, no third-party address, the portal's demo page."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

from bot.knowledge.contacts import phone_help, tel_uri
from bot.web.widget import WIDGET_DIR, WIDGET_FILES, content_security_policy, demo_page, embed_snippet

BUDGET_BYTES = 20 * 1024


class _ScriptTags(HTMLParser):
    """The attributes of every <script> tag, as a browser reads them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(dict(attrs))


def scripts(page: str) -> list[dict[str, str | None]]:
    """The page's <script> tags: an injected one would show up here."""
    parser = _ScriptTags()
    parser.feed(page)
    return parser.found


def gzipped_size(data: bytes) -> int:
    """Bytes on the wire with gzip, as a web server would send them."""
    return len(gzip.compress(data, compresslevel=9))


def test_widget_js_and_css_weigh_less_than_20_kb_gzipped() -> None:
    sizes = {name: gzipped_size((WIDGET_DIR / name).read_bytes()) for name in WIDGET_FILES}
    assert sum(sizes.values()) < BUDGET_BYTES, sizes


def test_widget_files_name_no_other_server() -> None:
    for name in WIDGET_FILES:
        text = (WIDGET_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"@import|url\(\s*['\"]?https?:|//cdn|googleapis|gstatic", text), name
        assert not re.search(r"\.innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", text), name


def test_embed_snippet_is_one_script_tag_with_a_phone_line_for_no_javascript() -> None:
    snippet = embed_snippet("https://www.mairie.fr", "https://chat.mel.fr/")
    assert snippet.count("<script") == 1
    assert 'src="https://www.mairie.fr/widget/numecrivain.js" data-server="https://chat.mel.fr"' in snippet
    assert '<noscript><p>' in snippet and f'href="{tel_uri(phone_help().phone or "")}"' in snippet


def test_demo_page_is_french_and_embeds_the_widget_of_this_server() -> None:
    page = demo_page('http://localhost:5005"><script>alert(1)</script>')
    assert '<html lang="fr">' in page
    assert scripts(page) == [{"src": "/widget/numecrivain.js", "data-server": 'http://localhost:5005"><script>alert(1)</script>',
                              "defer": None}]
    assert "<script>alert(1)" not in page


def test_demo_page_policy_allows_only_this_portal_and_the_chat_server() -> None:
    policy = content_security_policy("https://chat.mel.fr")
    assert "connect-src 'self' https://chat.mel.fr wss://chat.mel.fr;" in policy
    assert "default-src 'self';" in policy and "font-src 'none'" in policy
