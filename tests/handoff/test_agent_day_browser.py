"""An agent's scripted day on the real stack, in Chromium: three residents ask for a person (web chat, REST, SMS);
Alice is alerted for each (sound, desktop notification, count in the tab title), answers the first with a canned
reply and an inserted procedure, transfers one conversation to Bob, closes the rest (the warning about an
unanswered message accepted); the residents answer the survey; the day's figures are then read on the agents'
figures page, in its CSV and on the council's usage page, and checked against what the day did.

The stack is this module's own: the day's figures must hold this day only, not other tests' requests."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timezone
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401  (GSM 03.38 codec)
import pytest
import requests
from playwright.async_api import Dialog, Page, Route, async_playwright, expect

from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.render import MORE_NOTICE
from bot.db import get_engine
from bot.handoff.store import HandoffQueue, HandoffRequest
from bot.handoff.survey import NO, PARTLY, YES
from bot.handoff.tools import procedure_for_channel
from bot.secretariat.tokens import create_token
from tests.conftest import Stack, started_stack
from tests.e2e.rest import say
from tests.e2e.test_sms_e2e import send_sms, wait_for_reply
from tests.handoff.agent_client import create_agent
from tests.handoff.test_console_browser import CHROMIUM_ARGS, PASSWORD, SPY_ALERTS, log_in
from tests.web.socketio_client import SocketIOClient

pytestmark = [pytest.mark.stack, pytest.mark.browser]
PHONE = "+33639980061"  # ARCEP's range for fiction: reaches nobody
TITLE = "Console – Numécrivain"
CANNED_TITLE = "Accueil"
CANNED = "Bonjour, ici {agent}. Je regarde votre demande pour {commune}."
CANNED_FILLED = "Bonjour, ici Alice. Je regarde votre demande pour votre commune."  # no commune given in the chat
PROCEDURE, PROCEDURE_TITLE = "passport", "Passeport"
SURVEY_ANSWERS = {"webchat": YES, "sms": PARTLY}  # what each resident answers; REST gets no survey question
ZONE = ZoneInfo("Europe/Paris")
SEND_URL = "**/agents/api/requests/*/messages"
CHANNEL_LABELS = {"webchat": "chat web", "rest": "application (REST)", "sms": "SMS"}


@pytest.fixture(scope="module")
def day_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory.mktemp("agent-day")) as running:
        yield running


@dataclass
class Resident:
    """One person of the day: their channel, their conversation id, their request as stored."""

    channel: str
    sender: str
    request: HandoffRequest | None = None

    @property
    def short(self) -> str:
        assert self.request is not None
        return self.request.public_id[:6]


def request_of(stack: Stack, sender: str) -> HandoffRequest:
    request = HandoffQueue(get_engine(stack.database_url)).open_request_for(sender)
    assert request is not None, f"no open request for {sender}"
    return request


async def sms_after(stack: Stack, after: int) -> dict[str, Any]:
    """The next SMS the gateway sent to the resident after message `after`."""
    return await asyncio.to_thread(wait_for_reply, stack, PHONE, after, 60)


async def bot_said(chat: SocketIOClient, count: int) -> dict[str, Any]:
    """The count-th message the web chat resident received."""
    return (await chat.wait_for("bot_uttered", count, timeout=60))[-1]


async def arrival_alerts(page: Page, waiting: int) -> None:
    """The console announced one more person: status line, count in the title, one more sound and notification."""
    await expect(page).to_have_title(f"({waiting}) {TITLE}", timeout=60000)
    await expect(page.get_by_role("status")).to_have_text("Nouvelle demande dans la file d'attente.")
    body = "Une personne attend une réponse." if waiting == 1 else f"{waiting} personnes attendent une réponse."
    assert await page.evaluate("window.__notes.slice(-1)") == [f"Numécrivain : une personne attend | {body}"]
    assert await page.evaluate("[window.__beeps, window.__notes.length]") == [waiting, waiting]


async def accept_dialog(dialogs: list[str], dialog: Dialog) -> None:
    dialogs.append(dialog.message)
    await dialog.accept()


def minutes(seconds: float) -> str:
    """As the figures pages write a wait."""
    return f"{seconds / 60:.1f}".replace(".", ",") + " min"


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def local_day(request: HandoffRequest) -> date:
    return request.requested_at.replace(tzinfo=timezone.utc).astimezone(ZONE).date()


def wait_of(request: HandoffRequest) -> float:
    assert request.taken_at is not None
    return (request.taken_at - request.requested_at).total_seconds()


def expected_csv(residents: list[Resident]) -> list[dict[str, str]]:
    """The CSV lines the day must give: one request per channel, each taken, surveyed as the resident answered."""
    assert len({r.channel for r in residents}) == len(residents)  # one line each
    lines = []
    for resident in residents:
        assert resident.request is not None
        answer, wait = SURVEY_ANSWERS.get(resident.channel), round(wait_of(resident.request))
        lines.append({"jour": local_day(resident.request).isoformat(), "canal": resident.channel, "demandes": "1",
                      "repondues": "1", "abandonnees": "0", "expirees": "0", "attente_mediane_s": str(wait),
                      "attente_p90_s": str(wait), "rappels_faits": "0", "rappels_dans_les_temps": "0",
                      "satisfaction_questions": str(int(answer is not None)),
                      "satisfaction_oui": str(int(answer == YES)), "satisfaction_en_partie": str(int(answer == PARTLY)),
                      "satisfaction_non": str(int(answer == NO))})
    return sorted(lines, key=lambda line: (line["jour"], line["canal"]))  # the CSV's order


def day_rows(residents: list[Resident]) -> dict[str, dict[str, list[str]]]:
    """Per local day (dd/mm/yyyy), the cells of the per-day tables the figures pages must show."""
    by_day: dict[date, list[Resident]] = defaultdict(list)
    for resident in residents:
        assert resident.request is not None
        by_day[local_day(resident.request)].append(resident)
    tables: dict[str, dict[str, list[str]]] = {}
    for day, people in by_day.items():
        waits = [wait_of(r.request) for r in people if r.request is not None]
        answers = [SURVEY_ANSWERS[r.channel] for r in people if r.channel in SURVEY_ANSWERS]
        tables[f"{day:%d/%m/%Y}"] = {
            "Demandes par jour": [str(len(people)), str(len(waits)), "0", "0"],
            "Attente par jour": [minutes(statistics.median(waits)), minutes(nearest_rank(waits, 0.9)),
                                 str(len(waits))],
            "Satisfaction par jour": [str(len(answers)), str(len(answers)), str(answers.count(YES)),
                                      str(answers.count(PARTLY)), str(answers.count(NO))],
        }
    return tables


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def expect_day_tables(page: Page, tables: dict[str, dict[str, list[str]]]) -> None:
    for day, cells_by_table in tables.items():
        for caption, cells in cells_by_table.items():
            row = page.get_by_role("table", name=caption).get_by_role("row").filter(
                has=page.get_by_role("rowheader", name=day, exact=True))
            await expect(row.get_by_role("cell")).to_have_text(cells)


async def test_an_agent_day_from_the_alerts_to_the_figures(day_stack: Stack) -> None:
    stack = day_stack
    create_agent(stack.env, "alice", PASSWORD, display_name="Alice", role="admin")
    create_agent(stack.env, "bob", PASSWORD, display_name="Bob")
    council = create_token(get_engine(stack.database_url), "Métropole", is_admin=True)
    marker = uuid.uuid4().hex[:6]
    web = Resident("webchat", "")
    conversation = f"test-day-{marker}"  # the REST client's own id, which the bot keeps under "rest:"
    rest = Resident("rest", f"rest:{conversation}")
    sms = Resident("sms", pseudonymise(PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"]))
    async with async_playwright() as playwright, SocketIOClient(stack.rasa_url) as chat:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        alice_context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await alice_context.grant_permissions(["notifications"], origin=stack.web_url)  # the agent's consent
        await alice_context.add_init_script(SPY_ALERTS)
        page = await alice_context.new_page()
        await log_in(page, stack.web_url)
        await page.get_by_label("Je suis disponible pour répondre").check()
        await expect(page.get_by_role("status")).to_have_text("Vous êtes disponible.")
        await expect(page.get_by_label("Jouer un son")).to_be_checked()
        await expect(page.get_by_role("button", name="Notifications sur le bureau activées")).to_be_disabled()
        await expect(page.locator("#queue")).to_have_text("Personne n'attend.")
        await expect(page).to_have_title(TITLE)

        # The admin keeps the team's canned answers.
        admin = page.get_by_role("region", name="Réponses types de l'équipe (administration)")
        await admin.get_by_label("Titre").fill(CANNED_TITLE)
        await admin.get_by_label("Texte").fill(CANNED)
        await admin.get_by_role("button", name="Ajouter la réponse type").click()
        await expect(page.get_by_role("status")).to_have_text("Réponse type ajoutée pour toute l'équipe.")

        # 1. Three residents ask for a person, one after the other; the console rings for each.
        token = await chat.start_session(None)
        web.sender = "web:" + token.split(".")[0]
        await chat.emit("user_uttered", {"message": "/request_human", "metadata": {"button": True},
                                         "session_id": token})
        assert "file d'attente" in (await bot_said(chat, 1))["text"]
        web.request = request_of(stack, web.sender)
        await arrival_alerts(page, 1)

        queued = await asyncio.to_thread(say, stack.rest_url, conversation, "je voudrais parler à un conseiller")
        outbox = next(m["custom"]["handoff"]["messages_url"] for m in queued if m.get("custom"))
        await asyncio.to_thread(say, stack.rest_url, conversation, f"c'est pour mes impôts {marker}")
        rest.request = request_of(stack, rest.sender)
        await arrival_alerts(page, 2)

        assert await asyncio.to_thread(send_sms, stack, PHONE, "0") == 200  # "0": a person, whatever the menu
        last_sms = await sms_after(stack, 0)
        sms.request = request_of(stack, sms.sender)
        await arrival_alerts(page, 3)
        queue = page.locator("#queue")
        for resident in (web, rest, sms):
            await expect(queue).to_contain_text(f"n° {resident.short} · {CHANNEL_LABELS[resident.channel]}")

        # 2. Alice takes the first: a canned answer, then a procedure, both received by the resident.
        await page.get_by_role("button", name=f"Prendre la conversation n° {web.short}").click()
        await expect(page).to_have_title(f"(2) {TITLE}")
        assert "a rejoint la conversation" in (await bot_said(chat, 2))["text"]
        reply = page.get_by_label("Votre réponse")
        await page.get_by_label("Réponse type").select_option(label=CANNED_TITLE)
        await page.get_by_role("button", name="Insérer la réponse type").click()
        await expect(reply).to_have_value(CANNED_FILLED)
        # The canned answer is held on its way while Alice inserts the procedure: the insertion must survive its
        # return (the box is emptied when she sends, not when the server answers).
        released = asyncio.Event()

        async def hold(route: Route) -> None:
            await released.wait()
            await route.continue_()
        await page.route(SEND_URL, hold)
        await page.get_by_role("button", name="Envoyer").click()
        procedure = page.get_by_label("Démarche (résumé, site officiel, sans Internet)")
        await procedure.select_option(label=PROCEDURE_TITLE)
        await page.get_by_role("button", name="Insérer la démarche").click()
        web_procedure = procedure_for_channel(PROCEDURE, "webchat") or "missing"
        await expect(reply).to_have_value(web_procedure)
        released.set()
        received = await bot_said(chat, 3)
        assert (received["text"], received["from"], received["agent"]) == (CANNED_FILLED, "agent", "Alice")
        await expect(page.get_by_role("status")).to_have_text("Message envoyé.")
        await page.unroute(SEND_URL, hold)
        await expect(reply).to_have_value(web_procedure)
        await page.get_by_role("button", name="Envoyer").click()
        received = await bot_said(chat, 4)
        assert (received["text"], received["from"]) == (web_procedure, "agent")
        log = page.get_by_role("log")
        await expect(log).to_contain_text("Sans Internet :")

        # 3. The REST conversation goes to Bob, who sees it in his console.
        bob_context = await browser.new_context(viewport={"width": 1280, "height": 900})
        bob = await bob_context.new_page()
        await log_in(bob, stack.web_url, "bob", "Bob")
        await bob.get_by_label("Je suis disponible pour répondre").check()
        await expect(bob.get_by_role("status")).to_have_text("Vous êtes disponible.")
        await page.get_by_role("button", name=f"Prendre la conversation n° {rest.short}").click()
        await expect(page).to_have_title(f"(1) {TITLE}")
        await expect(log).to_contain_text(f"c'est pour mes impôts {marker}")
        transfer = page.get_by_label("Transférer la conversation")
        await transfer.focus()
        await expect(transfer.locator("option", has_text="À Bob (disponible)")).to_have_count(1)
        await transfer.select_option(label="À Bob (disponible)")
        await page.get_by_role("button", name="Transférer").click()
        await expect(page.get_by_role("status")).to_have_text(f"Conversation n° {rest.short} confiée à Bob.")
        await bob.get_by_role("button", name=f"Ouvrir la conversation n° {rest.short}").click()
        await expect(bob.get_by_role("log")).to_contain_text(f"c'est pour mes impôts {marker}")
        told = [m["text"] for m in (await asyncio.to_thread(requests.get, outbox, timeout=10)).json()["messages"]]
        assert [t.split(",")[0] for t in told if "a rejoint la conversation" in t] == ["Alice", "Bob"]

        # 4. The SMS resident gets the procedure in GSM-7, writes again, and Alice closes anyway when warned.
        await page.get_by_role("button", name=f"Prendre la conversation n° {sms.short}").click()
        await expect(page).to_have_title(TITLE)
        last_sms = await sms_after(stack, last_sms["id"])
        assert "a rejoint la conversation" in last_sms["text"]
        await procedure.select_option(label=PROCEDURE_TITLE)
        await page.get_by_role("button", name="Insérer la démarche").click()
        inserted = procedure_for_channel(PROCEDURE, "sms") or "missing"
        await expect(reply).to_have_value(inserted)
        await page.get_by_role("button", name="Envoyer").click()
        last_sms = await sms_after(stack, last_sms["id"])
        pages = [last_sms["text"]]
        while MORE_NOTICE in pages[-1]:  # a long answer comes in pages: PLUS gives the next one
            assert await asyncio.to_thread(send_sms, stack, PHONE, "PLUS") == 200
            last_sms = await sms_after(stack, last_sms["id"])
            pages.append(last_sms["text"])
        for text in pages:
            text.encode("gsm03.38")  # raises if the SMS would switch to UCS-2
        assert pages[0].startswith("Alice (conseiller) : ")
        words = " ".join(pages).removeprefix("Alice (conseiller) : ").replace(MORE_NOTICE, " ").split()
        assert words == inserted.split()  # all of the procedure, in order, nothing else
        assert await asyncio.to_thread(send_sms, stack, PHONE, f"Merci. Et pour un enfant {marker} ?") == 200
        await expect(log).to_contain_text(f"Et pour un enfant {marker} ?", timeout=30000)
        dialogs: list[str] = []
        page.once("dialog", lambda dialog: accept_dialog(dialogs, dialog))
        await page.get_by_role("button", name="Terminer la conversation").click()
        await expect(page.get_by_role("status")).to_have_text("Conversation terminée : le robot a repris la main.")
        assert "n'a pas de réponse (« Merci. Et pour un enfant" in dialogs[-1]

        # 5. Alice closes the web chat: its last message was hers, so the plain question only.
        await page.get_by_role("button", name=f"Ouvrir la conversation n° {web.short}").click()
        await expect(log).to_contain_text("Sans Internet :")
        page.once("dialog", lambda dialog: accept_dialog(dialogs, dialog))
        await page.get_by_role("button", name="Terminer la conversation").click()
        await expect(page.get_by_role("status")).to_have_text("Conversation terminée : le robot a repris la main.")
        assert dialogs[-1] == "Terminer la conversation ? Le robot reprendra la main."
        await expect(page.locator("#mine")).to_have_text("Aucune conversation en cours.")
        # Bob ends his, left unanswered (REST has no survey).
        bob.once("dialog", lambda dialog: accept_dialog(dialogs, dialog))
        await bob.get_by_role("button", name="Terminer la conversation").click()
        await expect(bob.get_by_role("status")).to_have_text("Conversation terminée : le robot a repris la main.")
        assert "n'a pas de réponse" in dialogs[-1]

        # 6. The survey: a button in the web chat, a number by SMS.
        goodbye, question = await bot_said(chat, 5), await bot_said(chat, 6)
        assert "a terminé la conversation" in goodbye["text"]
        choice = next(b for b in question["quick_replies"] if b["payload"].endswith(str(SURVEY_ANSWERS["webchat"])))
        await chat.emit("user_uttered", {"message": choice["payload"], "metadata": {"button": True},
                                         "session_id": token})
        assert (await bot_said(chat, 7))["text"].startswith("Merci pour votre réponse")
        while "Répondez 1 pour oui" not in last_sms["text"]:  # the goodbye, then the question
            last_sms = await sms_after(stack, last_sms["id"])
        assert await asyncio.to_thread(send_sms, stack, PHONE, str(SURVEY_ANSWERS["sms"])) == 200
        assert (await sms_after(stack, last_sms["id"]))["text"].startswith("Merci pour votre r")

        # 7. The day's figures: what it did, on the agents' page, in its CSV and on the council's page.
        queue_store = HandoffQueue(get_engine(stack.database_url))
        residents = [web, rest, sms]
        for resident in residents:
            assert resident.request is not None
            resident.request = queue_store.get(resident.request.id)
            assert resident.request.status == "closed"
        expected, tables = expected_csv(residents), day_rows(residents)
        await page.get_by_role("link", name="Chiffres du service").click()
        await expect_day_tables(page, tables)
        answers = list(SURVEY_ANSWERS.values())  # both surveyed conversations were Alice's
        agents = page.get_by_role("table", name="Satisfaction par agent (réservé aux administrateurs)")
        await expect(agents.get_by_role("row").filter(has_text="Alice").get_by_role("cell")).to_have_text(
            [str(len(answers)), str(len(answers)), str(answers.count(YES)), str(answers.count(PARTLY)),
             str(answers.count(NO)), f"{round(100 * answers.count(YES) / len(answers))} %"])
        detail = page.get_by_role("table", name="Chiffres du service, par jour et par canal")
        for resident in residents:
            assert resident.request is not None
            label = CHANNEL_LABELS[resident.channel]
            row = detail.get_by_role("row").filter(has_text=f"{local_day(resident.request):%d/%m/%Y}") \
                .filter(has=page.get_by_role("cell", name=label, exact=True))
            wait = minutes(wait_of(resident.request))
            await expect(row.get_by_role("cell")).to_have_text([label, "1", "1", "0", "0", wait, wait, "0", "0"])
        csv_link = await page.get_by_role("link", name="Télécharger ces chiffres (CSV)").get_attribute("href")
        exported = await page.request.get(f"{stack.web_url}{csv_link}")
        assert exported.ok
        assert rows_of(await exported.text()) == expected

        usage = await alice_context.new_page()
        await usage.goto(f"{stack.web_url}/secretariat/usage")
        await usage.get_by_label("Code d'accès administrateur").fill(council)
        await usage.get_by_role("button", name="Se connecter").click()
        await expect(usage.get_by_role("heading", name="Service d'aide par une personne")).to_be_visible()
        first, last = min(line["jour"] for line in expected), max(line["jour"] for line in expected)
        await usage.get_by_label("Du").fill(first)
        await usage.get_by_label("au", exact=True).fill(last)
        await usage.get_by_role("button", name="Afficher").click()
        period = f"Du {date.fromisoformat(first):%d/%m/%Y} au {date.fromisoformat(last):%d/%m/%Y}"
        await expect(usage.locator("#service")).to_contain_text(period)
        await expect_day_tables(usage, tables)
        council_csv = await usage.get_by_role("link", name="Télécharger les chiffres du service (CSV)") \
            .get_attribute("href")
        assert council_csv is not None and rows_of(unquote(council_csv.split(",", 1)[1])) == expected
        assert "Alice" not in await usage.locator("main").inner_text()  # no agent named to the council
        await browser.close()
