"""The replies' Markdown read once: the same parts for the widget, the SMS text and the agents' console."""

from __future__ import annotations

import json

import pytest

from bot.channels.sms.render import strip_markdown
from bot.handoff.render import first_line, markdown_to_html
from bot.markdown import (
    MAX_CHARS,
    Emphasis,
    Link,
    ListBlock,
    Paragraph,
    Strong,
    parse,
    plain_text,
    safe_href,
    to_html,
    to_parts,
)
from bot.places.render import escape_markdown

PLACES_TEXT = ("Les lieux d'aide les plus proches à Roubaix :\n"
               "1. **Espace France Services**\n"
               "   12 rue de Lille, 59100 Roubaix – 1,2 km\n"
               "   Horaires de la semaine :\n"
               "   - Du lundi au vendredi : 9h-12h\n"
               "   Tél. 03 20 00 00 00 – [Voir sur la carte](https://osm.org/x)\n"
               "2. **Mairie**\n"
               "   Place de la Liberté\n"
               "_Distances depuis le centre de Roubaix._")


def test_paragraphs_line_breaks_bold_and_italics() -> None:
    assert parse("**Carte d'identité**\n_Vérifiée_ le 01/02.\n\nAutre *paragraphe*.") == (
        Paragraph(((Strong(("Carte d'identité",)),), (Emphasis(("Vérifiée",)), " le 01/02."))),
        Paragraph((("Autre ", Emphasis(("paragraphe",)), "."),)),
    )


def test_numbered_list_keeps_its_start_number_everywhere() -> None:
    blocks = parse("Suite :\n3. Payez.\n4. Attendez.")
    assert blocks[1] == ListBlock(True, 3, ((Paragraph((("Payez.",),)),), (Paragraph((("Attendez.",),)),)))
    assert to_html("3. Payez.\n4. Attendez.") == '<ol start="3"><li>Payez.</li><li>Attendez.</li></ol>'
    assert to_parts("3. Payez.")[0] == {"type": "list", "ordered": True, "start": 3, "items": [
        [{"type": "paragraph", "lines": [["Payez."]]}]]}
    assert plain_text("3. Payez.\n4. Attendez.") == "3. Payez.\n4. Attendez."


def test_indented_lines_belong_to_the_list_item_above() -> None:
    shown = to_html(PLACES_TEXT)
    assert shown.count("<ol>") == 1 and shown.count("<li>") == 3  # two places, one weekly line nested in the first
    assert ("<li><strong>Espace France Services</strong><br>12 rue de Lille, 59100 Roubaix – 1,2 km<br>"
            "Horaires de la semaine :<ul><li>Du lundi au vendredi : 9h-12h</li></ul>Tél. 03 20 00 00 00 – "
            '<a href="https://osm.org/x" target="_blank" rel="noopener noreferrer">Voir sur la carte</a></li>') in shown
    assert shown.endswith("</ol><p><em>Distances depuis le centre de Roubaix.</em></p>")
    assert plain_text(PLACES_TEXT).split("\n")[1:4] == [
        "1. Espace France Services", "12 rue de Lille, 59100 Roubaix – 1,2 km", "Horaires de la semaine :"]


def test_backslash_escapes_show_the_sign_and_nothing_else() -> None:
    assert plain_text("Espace\\_X") == "Espace_X"
    assert to_parts("Espace\\_X") == [{"type": "paragraph", "lines": [["Espace_X"]]}]
    assert to_html("Espace\\_X") == "<p>Espace_X</p>"
    assert strip_markdown("\\*a\\*") == "*a*"
    assert markdown_to_html("\\*\\*pas gras\\*\\*") == "<p>**pas gras**</p>"
    assert plain_text("C:\\dossier") == "C:\\dossier"  # a backslash before a letter is a backslash


@pytest.mark.parametrize("data", [
    "Espace_Numérique [Lille] *centre* #1 <b>x</b> ~~y~~ `z` | a\\b",
    "**Mairie** _annexe_ [carte](javascript:alert(1))",
    "Espace\\_X, C:\\dossier",
])
def test_text_escaped_by_the_places_renderer_reads_back_as_written(data: str) -> None:
    escaped = escape_markdown(data)
    assert plain_text(escaped) == data
    assert to_parts(escaped) == [{"type": "paragraph", "lines": [[data]]}]
    assert strip_markdown(escaped) == data


def test_an_escaped_address_is_the_address_itself() -> None:
    escaped = escape_markdown("Site : https://exemple.fr/mes_droits_en_ligne.")
    url = "https://exemple.fr/mes_droits_en_ligne"
    assert parse(escaped) == (Paragraph((("Site : ", Link(url, url), "."),)),)
    assert strip_markdown(escaped) == "Site : https://exemple.fr/mes_droits_en_ligne."


def test_links_only_to_web_phone_and_mail_addresses() -> None:
    assert parse("[ANTS](https://ants.gouv.fr) [appeler](tel:+33320000000) [écrire](mailto:a@b.fr)")[0] == Paragraph(((
        Link("ANTS", "https://ants.gouv.fr"), " ", Link("appeler", "tel:+33320000000"), " ",
        Link("écrire", "mailto:a@b.fr")),))
    for hostile in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "/relative", "vbscript:x"):
        assert parse(f"[clic]({hostile}) !") == (Paragraph((("clic !",),)),), hostile
        assert safe_href(hostile) is None
    assert "href" not in to_html("[clic](javascript:alert(1))")


def test_bare_addresses_become_links_without_their_closing_punctuation() -> None:
    assert parse("Voir https://www.caf.fr/aides, puis (https://ants.gouv.fr).") == (Paragraph(((
        "Voir ", Link("https://www.caf.fr/aides", "https://www.caf.fr/aides"), ", puis (",
        Link("https://ants.gouv.fr", "https://ants.gouv.fr"), ")."),)),)
    assert parse("https://exemple.gouv.fr/mes_droits_en_ligne")[0] == Paragraph(((
        Link("https://exemple.gouv.fr/mes_droits_en_ligne", "https://exemple.gouv.fr/mes_droits_en_ligne"),),))


def test_sms_shows_links_as_title_and_short_address() -> None:
    assert strip_markdown("[ANTS](https://ants.gouv.fr/?utm_source=bot) et https://www.caf.fr/") == (
        "ANTS : https://ants.gouv.fr et www.caf.fr")
    assert strip_markdown("[ants.gouv.fr](https://ants.gouv.fr)") == "https://ants.gouv.fr"


def test_markup_a_person_types_keeps_its_words() -> None:
    assert plain_text("# Titre\n> cité\n---\n`code` ~~barré~~ ![photo](https://x.fr/a.png)") == (
        "Titre\ncité\ncode barré photo")
    assert to_html("# Titre") == "<p><strong>Titre</strong></p>"


def test_script_tags_are_text_in_every_output() -> None:
    text = '<script>alert(1)</script> <img src=x onerror="alert(2)"> **gras**'
    assert to_html(text) == ("<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=&quot;alert(2)&quot;&gt; "
                             "<strong>gras</strong></p>")
    assert to_parts(text) == [{"type": "paragraph", "lines": [[
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> ', {"type": "strong", "children": ["gras"]}]]}]
    assert plain_text(text) == '<script>alert(1)</script> <img src=x onerror="alert(2)"> gras'


def test_a_link_address_cannot_leave_its_attribute() -> None:
    shown = to_html('[x](https://a.fr/"onmouseover="alert(1)) <https://b.fr/"x>')
    assert 'onmouseover="' not in shown and '"x' not in shown.replace("&quot;", "")


def test_unpaired_and_crossed_marks_stay_as_typed() -> None:
    assert plain_text("3 * 4 = 12, a_b_c, **gras") == "3 * 4 = 12, a_b_c, **gras"
    assert plain_text("window.__xss=1; window.__xss=2") == "window.__xss=1; window.__xss=2"
    assert parse("**a _b** c_")[0] == Paragraph(((Strong(("a _b",)), " c_"),))
    assert parse("*un **deux** trois*")[0] == Paragraph(((Emphasis(("un ", Strong(("deux",)), " trois")),),))


def test_console_summary_is_the_first_line_without_marks() -> None:
    assert first_line("**Carte d'identité** : [ANTS](https://ants.gouv.fr)\nSuite") == "Carte d'identité : ANTS"
    assert first_line("\n\n- _Premier_ point") == "Premier point"
    assert first_line("a" * 200).endswith("…") and len(first_line("a" * 200)) == 90


HOSTILE = {
    "asterisks": "*" * 10_000,
    "alternating asterisks": "*a" * 5_000,
    "spaced asterisks": "* " * 5_000,
    "underscores in words": "_a" * 5_000 + "_",
    "openers without closers": "**a " * 2_500,
    "closers without openers": "a** " * 2_500,
    "brackets": "[" * 10_000,
    "unclosed links": "[a](" * 2_500,
    "unclosed links with brackets": "[a](()" * 1_600,
    "backticks": "`" * 10_000,
    "addresses": "https://" * 1_250,
    "nested list": "\n".join("  " * depth + "- x" for depth in range(2_000)),
    "headings": "# " * 5_000,
    "tildes then a backtick": "~" * 10_000 + "`",
    "indented tildes then a backtick": "   " + "~" * 10_000 + "`",
    "one long line of everything": "**_[`<\\~~" * 1_000,
}


@pytest.mark.timeout(20)  # each case reads in milliseconds; a backtracking pattern would take hours
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_read_in_linear_time(name: str) -> None:
    text = HOSTILE[name]
    parts = to_parts(text)
    assert json.loads(json.dumps(parts)) == parts
    assert "<script" not in to_html(text)
    plain_text(text)


def test_ten_thousand_asterisks_stay_asterisks_in_a_sentence_and_a_rule_alone() -> None:
    text = "Attention " + "*" * 10_000 + " fin"
    assert plain_text(text) == text
    assert to_parts(text) == [{"type": "paragraph", "lines": [[text]]}]
    assert to_parts("*" * 10_000) == [] and plain_text("a\n" + "*" * 10_000 + "\nb") == "a\nb"


def test_very_long_text_is_cut_before_reading() -> None:
    assert len(plain_text("a" * (MAX_CHARS * 3))) == MAX_CHARS
