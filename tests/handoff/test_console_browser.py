"""The console in headless Chromium against the real portal (and a stand-in Rasa over HTTP): log in, live queue
with alerts, live transcript without polling, take, reply, the close warning, the clean transcript; axe audits."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Dialog, Page, async_playwright, expect

from bot.db import get_engine
from bot.gsm7 import is_gsm7
from bot.handoff.accounts import AgentDirectory
from bot.handoff.store import CLOSED_BY_AGENT, HandoffQueue, utcnow
from tests.conftest import free_port
from tests.handoff.helpers import INTERNAL_TOKEN, fake_rasa, portal_settings, running_portal

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "un mot de passe de navigateur"
# Counts the sounds played and the desktop notifications shown, by wrapping the browser's own objects.
SPY_ALERTS = """
window.__beeps = 0; window.__notes = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__beeps += 1; return start.apply(this, args); };
const Real = window.Notification;
window.Notification = class extends Real { constructor(title, options) { super(title, options);
  window.__notes.push(title + " | " + (options && options.body)); } };
"""


async def log_in(page: Page, url: str, name: str = "alice", display_name: str = "Alice",
                 password: str = PASSWORD) -> None:
    await page.goto(f"{url}/agents")
    await page.get_by_label("Nom du compte").fill(name)
    await page.get_by_label("Mot de passe").fill(password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=f"Bonjour {display_name}")).to_be_visible()


async def test_agent_is_alerted_and_follows_the_conversation_live_without_polling(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'browser.db'}"
    AgentDirectory(get_engine(database_url)).create("alice", PASSWORD)
    queue = HandoffQueue(get_engine(database_url))
    request = queue.enqueue("web-7", "webchat", [], commune="Tourcoing", topic="procedure_housing_aid",
                            now=utcnow() - timedelta(minutes=3))
    async with fake_rasa() as rasa:
        rasa.online.add("web-7")
        waited_at = time.time() - 60
        rasa.events["web-7"] = [{"event": "user", "text": "Je n'arrive pas à faire ma demande CAF",
                                 "timestamp": waited_at}]
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = await browser.new_context()
            await context.grant_permissions(["notifications"], origin=url)
            await context.add_init_script(SPY_ALERTS)
            page = await context.new_page()
            await page.goto(f"{url}/agents")
            await expect(page.get_by_role("heading", name="Connexion des agents")).to_be_visible()
            assert (await Axe().run(page)).violations_count == 0
            await page.get_by_label("Nom du compte").fill("alice")
            await page.get_by_label("Mot de passe").fill("pas le bon")
            await page.get_by_role("button", name="Se connecter").click()
            await expect(page.get_by_role("alert")).to_contain_text("Nom ou mot de passe incorrect")
            await page.get_by_label("Nom du compte").fill("alice")
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", name="Bonjour Alice")).to_be_visible()

            take = page.get_by_role("button", name=f"Prendre la conversation n° {request.public_id[:6]}")
            await expect(take).to_be_visible(timeout=5000)
            await expect(page.locator("#queue")).to_contain_text("Tourcoing · sujet : Aide au logement")
            await expect(page).to_have_title("(1) Console – Numécrivain")
            # Consent was given to the browser (grant_permissions): the console says so instead of asking.
            await expect(page.get_by_role("button", name="Notifications sur le bureau activées")).to_be_disabled()
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()

            # The action server queues a second person straight into the database: the console rings.
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url))
            second = queue.enqueue("sms-3f2a", "sms", [], commune="Roubaix")
            await expect(page.get_by_role("status")).to_have_text("Nouvelle demande dans la file d'attente.")
            await expect(page).to_have_title("(2) Console – Numécrivain")
            assert await page.evaluate("window.__beeps") == 1
            assert await page.evaluate("window.__notes") == [
                "Numécrivain : une personne attend | 2 personnes attendent une réponse."]

            # Keyboard only: Tab from the top of the page reaches the button, Enter takes the conversation.
            await page.locator("body").focus()
            for _ in range(30):
                await page.keyboard.press("Tab")
                if await take.evaluate("el => el === document.activeElement"):
                    break
            await expect(take).to_be_focused()
            await page.keyboard.press("Enter")
            log = page.get_by_role("log")
            await expect(log).to_contain_text("Je n'arrive pas à faire ma demande CAF")
            await expect(log).to_contain_text("écrit pendant l'attente")
            await expect(page.locator("#resident")).to_contain_text("a la conversation ouverte")
            assert rasa.relayed[0]["text"] == "Alice, de l'équipe, a rejoint la conversation et va vous répondre."
            await expect(log).to_contain_text("a rejoint la conversation")

            # The person writes after the take: Rasa pushes it (bot.handoff.resident_push), it appears without the
            # console asking again.
            wrote = {"event": "user", "text": "Vous êtes là ?", "timestamp": time.time()}
            rasa.events["web-7"].append(wrote)
            pushed = await page.request.post(f"{url}/internal/handoff/web-7/resident", data={
                "kind": "message", "text": wrote["text"], "timestamp": wrote["timestamp"]},
                headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
            assert pushed.status == 202
            new_message = log.locator("li", has_text="Vous êtes là ?")
            await expect(new_message).to_be_visible()
            await expect(new_message).not_to_contain_text("écrit pendant l'attente")
            polled = [u for u in asked if u.endswith("/agents/api/queue") or u.endswith(request.public_id)]
            assert polled == [], polled

            # Closing with the question unanswered: the console warns, and nothing is closed when refused.
            warnings: list[str] = []

            async def refuse(dialog: Dialog) -> None:
                warnings.append(dialog.message)
                await dialog.dismiss()
            page.once("dialog", refuse)
            await page.get_by_role("button", name="Terminer la conversation").click()
            await expect(page.get_by_label("Votre réponse")).to_be_focused()
            assert "n'a pas de réponse (« Vous êtes là ? »)" in warnings[0]
            assert queue.get(request.id).status == "taken"

            await page.get_by_label("Votre réponse").fill("Oui, je suis là. Je regarde votre dossier CAF.")
            await page.get_by_role("button", name="Envoyer").click()
            await expect(page.get_by_role("status")).to_have_text("Message envoyé.")
            await expect(log).to_contain_text("Je regarde votre dossier CAF.")
            assert rasa.relayed[-1] == {"channel": "webchat", "sender_id": "web-7", "agent": "Alice",
                                        "text": "Oui, je suis là. Je regarde votre dossier CAF."}
            assert await page.get_by_label("Votre réponse").evaluate("el => el === document.activeElement")

            # The sound can be turned off: the next request is announced in words and in the title only.
            await page.get_by_label("Jouer un son").uncheck()
            queue.enqueue("web-9", "webchat", [])
            await expect(page).to_have_title("(2) Console – Numécrivain")
            await expect(page.get_by_role("status")).to_have_text("Nouvelle demande dans la file d'attente.")
            assert await page.evaluate("window.__beeps") == 1

            async def accept(dialog: Dialog) -> None:
                warnings.append(dialog.message)
                await dialog.accept()
            page.once("dialog", accept)
            await page.get_by_role("button", name="Terminer la conversation").click()
            await expect(page.get_by_role("status")).to_contain_text("le robot a repris la main")
            assert warnings[-1] == "Terminer la conversation ? Le robot reprendra la main."
            await expect(page.get_by_role("button", name="Envoyer")).to_be_disabled()
            assert rasa.resumed("web-7")
            assert queue.get(request.id).close_reason == CLOSED_BY_AGENT
            assert queue.get(second.id).status == "waiting"
            await browser.close()


async def test_transcript_is_readable_safe_and_shows_earlier_conversations(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'transcript.db'}"
    AgentDirectory(get_engine(database_url)).create("alice", PASSWORD)
    queue = HandoffQueue(get_engine(database_url))
    before = queue.enqueue("sms-77aa", "sms", [], topic="passport", now=datetime(2026, 3, 2, 9, 0))
    queue.take(before.id, "bob", display_name="Bob", now=datetime(2026, 3, 2, 9, 5))
    queue.close(before.id, CLOSED_BY_AGENT, agent_name="bob", now=datetime(2026, 3, 2, 9, 20))
    request = queue.enqueue("sms-77aa", "sms", [], commune="Lille", topic="identity_card",
                            now=utcnow() - timedelta(minutes=1))
    now = time.time()
    async with fake_rasa() as rasa:
        rasa.events["sms-77aa"] = [
            {"event": "user", "text": "carte d'identité perdue", "timestamp": now - 120},
            {"event": "bot", "timestamp": now - 119,
             "text": "**Carte d'identité**\nLes étapes :\n- faire une pré-demande\n- prendre rendez-vous\n"
                     "[Service-Public.fr – Carte d'identité](https://www.service-public.fr/particuliers/vosdroits/F1341)",
             "data": {"buttons": [{"title": "Parler à une personne", "payload": "/request_human"}]}},
            {"event": "user", "text": "/request_human", "timestamp": now - 100},
            {"event": "user", "text": "<img src=x onerror=alert(1)> **urgent**", "timestamp": now - 50},
        ]
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = await browser.new_page()
            dialogs: list[str] = []

            async def dismiss(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()
            page.on("dialog", dismiss)
            await log_in(page, url)
            await page.get_by_role("button", name=f"Prendre la conversation n° {request.public_id[:6]}").click()
            log = page.get_by_role("log")
            await expect(log).to_contain_text("A choisi : « Parler à une personne »")
            await expect(log).not_to_contain_text("/request_human")
            await expect(page.locator("#conversation-info")).to_contain_text("SMS · Lille · sujet : Carte d'identité")
            await expect(page.locator("#resident")).to_contain_text("Par SMS")

            # The bot's answer is folded; opened, its Markdown is rendered and its link is a real link.
            summary = log.get_by_text("Réponse du robot : Carte d'identité")
            await expect(summary).to_be_visible()
            link = log.get_by_role("link", name="Service-Public.fr – Carte d'identité")
            await expect(link).to_be_hidden()
            await summary.focus()
            await page.keyboard.press("Enter")
            await expect(link).to_have_attribute(
                "href", "https://www.service-public.fr/particuliers/vosdroits/F1341")
            await expect(log.locator("li li", has_text="prendre rendez-vous")).to_be_visible()
            # What the person typed is shown as text, never as markup.
            await expect(log).to_contain_text("<img src=x onerror=alert(1)> **urgent**")
            assert await log.locator("img").count() == 0 and dialogs == []

            earlier = page.get_by_text("Conversations précédentes de cette personne (1)")
            await earlier.click()
            await expect(page.locator("#earlier-list")).to_contain_text("02/03/2026")
            await expect(page.locator("#earlier-list")).to_contain_text("Passeport · répondu par Bob")
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()
            await browser.close()


async def test_admin_keeps_canned_answers_and_agent_inserts_notes_and_transfers(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'tools.db'}"
    directory = AgentDirectory(get_engine(database_url))
    directory.create("alice", PASSWORD, role="admin")
    bob = directory.create("bob", PASSWORD, display_name="Bob")
    directory.set_available(bob.id, True)  # Bob's console is open and he is available
    queue = HandoffQueue(get_engine(database_url))
    request = queue.enqueue("sms-51c0", "sms", [], commune="Tourcoing", topic="identity_card")
    async with fake_rasa() as rasa:
        rasa.events["sms-51c0"] = [{"event": "user", "text": "j'ai perdu ma carte", "timestamp": time.time()}]
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await log_in(page, url)
            admin = page.get_by_role("region", name="Réponses types de l'équipe (administration)")
            await admin.get_by_label("Titre").fill("Aller en France Services")
            await admin.get_by_label("Texte").fill(
                "Bonjour, près de {commune} : {france_services} Bien à vous, {agent}.")
            await admin.get_by_role("button", name="Ajouter la réponse type").click()
            await expect(page.get_by_role("status")).to_have_text("Réponse type ajoutée pour toute l'équipe.")
            await expect(admin.get_by_role("button", name="Supprimer « Aller en France Services »")).to_be_visible()

            await page.get_by_role("button", name=f"Prendre la conversation n° {request.public_id[:6]}").click()
            reply = page.get_by_label("Votre réponse")
            await page.get_by_label("Réponse type").select_option(label="Aller en France Services")
            await page.get_by_role("button", name="Insérer la réponse type").click()
            await expect(reply).to_have_value(re.compile(r"^Bonjour, près de Tourcoing : .*France Services.* "
                                                         r"Bien à vous, Alice\.$"))
            await expect(reply).to_be_focused()
            await reply.fill("")
            await page.get_by_label("Démarche (résumé, site officiel, sans Internet)").select_option(
                label="Carte d'identité")
            await page.get_by_role("button", name="Insérer la démarche").click()
            await expect(reply).to_have_value(re.compile(r"^Carte d'identité: .*service-public.*Sans Internet : "))
            inserted = await reply.input_value()
            assert is_gsm7(inserted) and "Sans Internet" in inserted
            await page.get_by_role("button", name="Envoyer").click()
            await expect(page.get_by_role("status")).to_have_text("Message envoyé.")
            assert rasa.relayed[-1]["channel"] == "sms" and rasa.relayed[-1]["text"] == inserted

            relayed_before = len(rasa.relayed)
            await page.get_by_label("Note interne (jamais envoyée à la personne)").fill("A rappeler jeudi si besoin.")
            await page.get_by_role("button", name="Enregistrer la note").click()
            log = page.get_by_role("log")
            await expect(log.locator("li.note")).to_contain_text("Note interne de Alice (non envoyée)")
            await expect(log.locator("li.note")).to_contain_text("A rappeler jeudi si besoin.")
            assert len(rasa.relayed) == relayed_before
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()

            transfer = page.get_by_label("Transférer la conversation")
            await transfer.focus()
            await expect(transfer.locator("option", has_text="À Bob (disponible)")).to_have_count(1)
            await transfer.select_option(label="À Bob (disponible)")
            await page.get_by_role("button", name="Transférer").click()
            await expect(page.get_by_role("status")).to_have_text(
                f"Conversation n° {request.public_id[:6]} confiée à Bob.")
            moved = queue.get(request.id)
            assert (moved.status, moved.agent_name, moved.agent_display_name) == ("taken", "bob", "Bob")
            assert rasa.relayed[-1] == {"channel": "sms", "sender_id": "sms-51c0", "agent": "", "role": "robot",
                                        "kind": "notice",
                                        "text": "Bob, de l'équipe, a rejoint la conversation et va vous répondre."}
            await expect(page.locator("#mine")).to_contain_text("Aucune conversation en cours.")

            # The day's figures: the SMS request was answered; the same in the CSV.
            await page.get_by_role("link", name="Chiffres du service").click()
            table = page.get_by_role("table", name="Chiffres du service, par jour et par canal")
            cells = table.get_by_role("row").nth(1).get_by_role("cell")
            await expect(cells).to_have_text(["SMS", "1", "1", "0", "0", re.compile(" min$"), re.compile(" min$"),
                                              "0", "0"])
            await expect(page.get_by_role("img", name="Demandes par jour")).to_be_visible()
            audit = await Axe().run(page)
            assert audit.violations_count == 0, audit.generate_report()
            csv_link = await page.get_by_role("link", name="Télécharger ces chiffres (CSV)").get_attribute("href")
            exported = await page.request.get(f"{url}{csv_link}")
            assert exported.ok and ",sms,1,1,0,0," in await exported.text()
            await browser.close()
