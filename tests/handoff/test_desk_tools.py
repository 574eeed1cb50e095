"""The console's helpers without a browser: safe rendering, commands in words, French topics, canned answers,
procedures per channel, notes, transfer, and the live-update signal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.gsm7 import is_gsm7
from bot.handoff.accounts import AccountError, AgentDirectory
from bot.handoff.live import ConsoleHub, sse_event
from bot.handoff.render import command_in_words, markdown_to_html, present_messages, topic_in_french
from bot.handoff.store import TAKEN, WAIT_TIMEOUT, WAITING, ConversationClosedError, HandoffQueue
from bot.handoff.tools import DeskTools, ToolError, check_canned, fill_variables, procedure_for_channel
from tests.handoff.helpers import FIXED_NOW, agent_named, sqlite_engine


def test_markdown_is_escaped_before_the_few_allowed_tags_come_back():
    shown = markdown_to_html('**Titre** <script>alert(1)</script>\n- un\n- deux\n'
                             '[Service-Public.fr](https://www.service-public.fr/x) [piège](javascript:alert(1))')
    assert "<strong>Titre</strong> &lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<ul><li>un</li><li>deux</li></ul>" in shown
    assert '<a href="https://www.service-public.fr/x" target="_blank" rel="noopener noreferrer">Service-Public.fr</a>' \
        in shown
    assert "javascript:" not in shown.split("href=")[-1].split(">")[0] and 'href="javascript' not in shown


def test_link_text_cannot_break_out_of_its_attribute():
    shown = markdown_to_html('[x](https://a.fr/"onmouseover="alert(1))')
    assert "onmouseover=\"" not in shown


def test_button_presses_are_shown_in_words_never_as_commands():
    assert command_in_words("/request_human") == "A choisi : « Parler à une personne »"
    assert command_in_words('/choose{"n": 1}', {'/choose{"n": 1}': "Passeport"}) == "A choisi : « Passeport »"
    assert command_in_words("/inconnu") == "A appuyé sur un bouton"
    assert command_in_words("bonjour /request_human") is None


def test_a_pressed_button_takes_the_title_the_bot_offered():
    messages = present_messages([
        {"role": "bot", "text": "**Carte d'identité**\nQue voulez-vous ?", "payloads": {"/steps": "Voir les étapes"}},
        {"role": "user", "text": "/steps"},
    ])
    assert messages[0]["summary"] == "Carte d'identité" and "payloads" not in messages[0]
    assert messages[1] == {"role": "user", "text": "A choisi : « Voir les étapes »", "command": True}


def test_topics_are_the_knowledge_base_titles_in_french():
    assert topic_in_french("procedure_identity_card") == "Carte d'identité"
    assert topic_in_french("identity_card") == "Carte d'identité"
    assert topic_in_french("find_help_nearby") == "Trouver un lieu d'aide près de chez soi"
    assert topic_in_french(None) is None


def test_canned_answer_variables_are_filled_or_given_a_general_wording():
    text = "À {commune}, allez à {france_services} Signé {agent}."
    assert fill_variables(text, "Roubaix", "Alice", "l'espace X.") == "À Roubaix, allez à l'espace X. Signé Alice."
    general = fill_variables(text, None, "Alice")
    assert general.startswith("À votre commune, allez à l'espace France Services le plus proche de chez vous")
    with pytest.raises(ToolError, match=r"Variable inconnue : \{mairie\}"):
        check_canned("Mairie", "Appelez {mairie}")
    with pytest.raises(ToolError):
        check_canned("  ", "texte")


def test_procedure_is_inserted_in_the_channel_format():
    sms = procedure_for_channel("passport", "sms")
    web = procedure_for_channel("passport", "webchat")
    assert sms is not None and web is not None
    assert is_gsm7(sms) and "Sans Internet :" in sms and "service-public" in sms
    assert web.startswith("**Passeport**") and "Site officiel : [" in web and "Sans Internet :" in web
    assert procedure_for_channel("nothing_like_this", "sms") is None


def test_notes_and_canned_answers_are_kept(tmp_path):
    engine = sqlite_engine(tmp_path)
    queue, tools = HandoffQueue(engine), DeskTools(engine)
    request = queue.enqueue("web-1", "webchat", [], now=FIXED_NOW)
    tools.add_note(request.id, "Alice", "  Rappeler jeudi.  ", now=FIXED_NOW)
    assert [(n.author, n.text) for n in tools.notes(request.id)] == [("Alice", "Rappeler jeudi.")]
    with pytest.raises(ToolError):
        tools.add_note(request.id, "Alice", "   ")
    saved = tools.save_canned("Horaires", "À {commune} : {france_services}", "Alice")
    assert saved is not None and tools.canned_answers() == [saved]
    assert tools.save_canned("Autre", "texte", "Alice", canned_id=saved.id + 99) is None
    assert tools.delete_canned(saved.id) and not tools.delete_canned(saved.id)


def test_transfer_to_a_colleague_or_back_to_the_queue_keeps_the_place(tmp_path):
    queue = HandoffQueue(sqlite_engine(tmp_path))
    first = queue.enqueue("web-1", "webchat", [], now=FIXED_NOW)
    queue.enqueue("web-2", "webchat", [], now=FIXED_NOW + timedelta(minutes=1))
    queue.take(first.id, "alice", now=FIXED_NOW + timedelta(minutes=2))
    moved = queue.transfer(first.id, "alice", "bob", "Bob", now=FIXED_NOW + timedelta(minutes=3))
    assert (moved.status, moved.agent_name, moved.agent_display_name) == (TAKEN, "bob", "Bob")
    with pytest.raises(ConversationClosedError):
        queue.transfer(first.id, "alice", None)  # not Alice's any more
    back = queue.transfer(first.id, "bob", None, now=FIXED_NOW + timedelta(minutes=14))
    assert back.status == WAITING and back.agent_name is None
    assert queue.waiting_position(back) == 1  # still first in line
    # Put back at minute 14: it gets a full wait again, while the other one, asked at minute 1, expires.
    stale = queue.stale(FIXED_NOW + timedelta(minutes=17), wait_minutes=15, idle_minutes=15)
    assert [(r.sender_id, reason) for r, reason in stale] == [("web-2", WAIT_TIMEOUT)]


def test_agent_roles_are_agent_or_admin(tmp_path):
    directory = AgentDirectory(sqlite_engine(tmp_path))
    alice = directory.create("alice", "un long mot de passe", role="admin")
    bob = directory.create("bob", "un long mot de passe")
    assert alice.is_admin and not bob.is_admin
    assert directory.set_role("bob", "admin") and agent_named(directory, "bob").is_admin
    with pytest.raises(AccountError):
        directory.create("carole", "un long mot de passe", role="chef")


async def test_hub_wakes_streams_at_once_on_a_local_change_and_on_a_database_change():
    marker = {"value": 0}
    hub = ConsoleHub(lambda: marker["value"], poll_seconds=0.05)
    generation = hub.generation
    waiter = asyncio.create_task(hub.wait(generation, timeout=30))
    hub.notify()
    assert await asyncio.wait_for(waiter, 5) == generation + 1
    hub.start()
    try:
        with hub.watching():  # the database is watched only while a stream is open
            generation = await hub.wait(hub.generation, timeout=0.01)
            marker["value"] = 1  # another process changed the database
            assert await asyncio.wait_for(hub.wait(generation, timeout=30), 5) > generation
        assert hub.streams == 0
    finally:
        await hub.stop()


def test_server_sent_event_keeps_its_data_on_one_line():
    assert sse_event("queue", {"text": "deux\nlignes"}) == 'event: queue\ndata: {"text":"deux\\nlignes"}\n\n'
