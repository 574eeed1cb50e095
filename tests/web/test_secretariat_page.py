"""The secretariat page in Debian's chromium: login once, search, full answer, print one A4 page, SMS, report."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.secretariat.reports import list_reports
from bot.secretariat.store import secretariat_engine
from tests.secretariat.fixtures import Portal, portal  # noqa: F401  (session fixture)

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "pièces pour une première demande de passeport mineur"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser, portal: Portal) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal.url)
    opened = context.new_page()
    outside: list[str] = []
    opened.on("request", lambda r: outside.append(r.url) if not r.url.startswith(portal.url) else None)
    yield opened
    context.close()
    assert outside == [], f"third-party requests: {outside}"


def _login(page: Page, portal: Portal, token: str) -> None:  # noqa: F811
    page.goto(f"{portal.url}/secretariat")
    page.get_by_label("Code d'accès de votre mairie").fill(token)
    page.get_by_role("button", name="Se connecter").click()


def test_secretary_finds_prints_copies_and_reports_the_passport_procedure(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, portal.commune_token)
    expect(page.locator("#who")).to_contain_text("Mairie de Lille (Lille, 59350)")
    page.get_by_label("Question de l'usager").fill(QUESTION)
    page.get_by_role("button", name="Chercher").click()
    first = page.locator("article.answer").first
    expect(first.get_by_role("heading", level=3)).to_have_text("Passeport")
    expect(first.get_by_role("link").first).to_have_attribute(
        "href", "https://www.service-public.gouv.fr/particuliers/vosdroits/F14929")
    # Checked against the current official sheets that day: the page says so, with the date.
    expect(first.locator(".checked")).to_contain_text("Informations vérifiées le 02/12/2026")

    # Printable view: only this procedure, on one A4 page.
    page.evaluate("window.print = () => {}")
    first.get_by_role("button", name="Imprimer cette fiche").click()
    page.emulate_media(media="print")
    expect(page.locator("article.answer:not(.to-print)").first).to_be_hidden()
    expect(first.get_by_role("button", name="Imprimer cette fiche")).to_be_hidden()
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
    page.emulate_media(media="screen")

    # Copy-to-SMS puts the entry's GSM-7 text on the clipboard.
    first.get_by_role("button", name="Copier le texte SMS").click()
    expect(first.locator(".sms .feedback")).to_have_text("Texte SMS copié.")
    assert page.evaluate("navigator.clipboard.readText()").startswith("Passeport")

    # "Signaler une erreur" stores the report with the token's commune and name.
    first.get_by_text("Signaler une erreur").click()
    first.get_by_label("Qu'est-ce qui est faux").fill("Le lien ANTS a changé <b>test navigateur</b>")
    first.get_by_role("button", name="Envoyer le signalement").click()
    expect(first.locator("form.report .feedback")).to_contain_text("enregistré")
    reports = [r for r in list_reports(secretariat_engine(portal.database_url)) if "test navigateur" in r.message]
    assert reports and reports[0].procedure_id == "passport" and reports[0].reporter == "Mairie de Lille"


def test_wrong_token_is_refused_and_nothing_is_shown(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, "sec_wrong")
    expect(page.locator("#status")).to_contain_text("Code d'accès refusé")
    expect(page.locator("#search-section")).to_be_hidden()


def test_injection_in_a_question_is_shown_as_text(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, portal.commune_token)
    page.get_by_label("Question de l'usager").fill('<img src=x onerror="window.pwned=1"> passeport')
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#status")).to_contain_text('<img src=x onerror="window.pwned=1">')
    assert page.evaluate("window.pwned") is None
    assert page.locator("#status img").count() == 0


def test_token_is_kept_for_the_tab_only(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, portal.commune_token)
    expect(page.locator("#search-section")).to_be_visible()
    page.reload()
    expect(page.locator("#search-section")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_commune_token_cannot_open_usage_figures(page: Page, portal: Portal) -> None:  # noqa: F811
    page.goto(f"{portal.url}/secretariat/usage")
    page.get_by_label("Code d'accès administrateur").fill(portal.commune_token)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#status")).to_contain_text("réservés à l'administration")
    expect(page.locator("#figures table")).to_have_count(0)


def test_admin_sees_usage_tables(page: Page, portal: Portal) -> None:  # noqa: F811
    page.goto(f"{portal.url}/secretariat/usage")
    page.get_by_label("Code d'accès administrateur").fill(portal.admin_token)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("table", name="Mise en relation avec une personne")).to_be_visible()


def test_no_matching_sheet_says_so_and_signals_the_need(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, portal.commune_token)
    page.get_by_label("Question de l'usager").fill("un administré a perdu son livret de famille")
    page.get_by_role("button", name="Chercher").click()
    expect(page.get_by_role("heading", name="Aucune fiche ne correspond à cette question.")).to_be_visible()
    expect(page.locator("article.answer")).to_have_count(0)
    page.get_by_label("Précision (facultatif)").fill("test navigateur besoin")
    page.get_by_role("button", name="Signaler un besoin").click()
    expect(page.locator("form.need .feedback")).to_contain_text("transmis à l'équipe de contenu")
    stored = [r for r in list_reports(secretariat_engine(portal.database_url)) if "test navigateur besoin" in r.message]
    assert stored and stored[0].procedure_id == "besoin_sans_fiche"
    assert "livret de famille" in stored[0].message


def test_print_view_has_commune_date_places_and_no_screen_decorations(page: Page, portal: Portal) -> None:  # noqa: F811
    _login(page, portal, portal.commune_token)
    page.get_by_label("Question de l'usager").fill("où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing")
    page.get_by_role("button", name="Chercher").click()
    places = page.locator("article.places")
    expect(places.get_by_role("heading", level=3)).to_have_text("Lieux d'aide près de Tourcoing", timeout=20_000)
    expect(places.locator("li")).to_have_count(3)
    expect(places).to_contain_text("03 20 17 38 06")  # places without a phone point to one that has it
    answer = page.locator("article.answer").first
    expect(answer.locator(".checked")).to_contain_text("Source : Fiche Numécrivain « Apprendre l'ordinateur")
    expect(answer.locator(".checked")).not_to_contain_text("data/knowledge")
    expect(page.locator("#print-header")).to_be_hidden()

    page.evaluate("window.print = () => {}")
    answer.get_by_role("button", name="Imprimer cette fiche").click()
    page.emulate_media(media="print")
    header = page.locator("#print-header")
    expect(header).to_be_visible()
    expect(header).to_contain_text("Numécrivain – Mairie de Lille (Lille)")
    today = page.evaluate("new Date().toLocaleDateString('fr-FR')")
    expect(header).to_contain_text(f"Imprimé le {today}")
    for decoration in ("header h1", "#search-section", "#session", "#status", ".rank", "details", "textarea"):
        expect(page.locator(decoration).first).to_be_hidden()
    expect(answer.get_by_role("button", name="Imprimer cette fiche")).to_be_hidden()
    expect(places).to_be_hidden()  # only the sheet asked for is printed
    assert answer.evaluate("node => getComputedStyle(node).borderTopStyle") == "none"
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # the sheet alone, on one A4 page


@pytest.mark.parametrize(("path", "label"), [("/secretariat", "Code d'accès de votre mairie"),
                                             ("/secretariat/usage", "Code d'accès administrateur")])
def test_both_pages_are_french_with_a_labelled_login_and_no_axe_violation(
        page: Page, portal: Portal, path: str, label: str) -> None:  # noqa: F811
    page.goto(f"{portal.url}{path}")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Numécrivain –")
    expect(page.get_by_role("heading", level=2, name="Connexion")).to_be_visible()
    expect(page.get_by_label(label)).to_be_visible()
    results = Axe().run(page)
    assert results.violations_count == 0, json.dumps(results.response["violations"], ensure_ascii=False)[:4000]
