"""The console's tools: canned answers (kept by admins), procedures, internal notes, transfers, callbacks."""

from __future__ import annotations

import asyncio

from sanic import Sanic, response
from sanic.request import Request

from bot.handoff.callbacks import national
from bot.handoff.console import epoch
from bot.handoff.sessions import AgentSession
from bot.handoff.store import ConversationClosedError, utcnow
from bot.handoff.tools import (
    VARIABLES,
    ToolError,
    fill_variables,
    france_services_for,
    procedure_choices,
    procedure_for_channel,
)
from bot.web.agents.auth import admin_only, agent_api
from bot.web.agents.context import agents_of, desk_of, hub_of
from bot.web.agents.responses import error, json_reply
from bot.web.agents.views import CONVERSATION_URL, NOT_YOURS, held_by, json_field, request_summary

CANNED_FOR_ADMINS = "Seuls les comptes administrateurs gèrent les réponses types."


@agent_api
async def tool_list(request: Request, session: AgentSession) -> response.HTTPResponse:
    """What the tools panel offers: the team's canned answers, their variables, the procedures."""
    canned = await asyncio.to_thread(agents_of(request).tools.canned_answers)
    return json_reply({
        "is_admin": session.agent.is_admin,
        "variables": VARIABLES,
        "canned": [{"id": c.id, "title": c.title, "text": c.text, "updated_by": c.updated_by} for c in canned],
        "procedures": [{"id": pid, "title": title} for pid, title in await asyncio.to_thread(procedure_choices)],
    })


@agent_api
async def colleagues(request: Request, session: AgentSession) -> response.HTTPResponse:
    """The colleagues available now, who may receive a transfer."""
    agents = agents_of(request)
    present = await asyncio.to_thread(agents.directory.available_agents, utcnow(), agents.config.presence_minutes)
    return json_reply({"colleagues": [{"id": a.id, "name": a.public_name} for a in present
                                      if a.id != session.agent.id]})


@agent_api
async def canned_for(request: Request, session: AgentSession, public_id: str, canned_id: int) -> response.HTTPResponse:
    """A canned answer with this conversation's commune and France Services filled in."""
    agents = agents_of(request)
    handoff = await asyncio.to_thread(held_by, agents, public_id, session.agent.name)
    canned = await asyncio.to_thread(agents.tools.canned, canned_id)
    if handoff is None or canned is None:
        return error("Réponse type ou conversation introuvable.", 404)
    nearby = await asyncio.to_thread(france_services_for, handoff.commune) if "{france_services}" in canned.text \
        else None
    return json_reply({"text": fill_variables(canned.text, handoff.commune, session.agent.public_name, nearby)})


@agent_api
async def procedure_for(request: Request, session: AgentSession, public_id: str,
                        procedure_id: str) -> response.HTTPResponse:
    """A procedure in a few lines, in the format of the person's channel (GSM-7 by SMS)."""
    handoff = await asyncio.to_thread(held_by, agents_of(request), public_id, session.agent.name)
    text = await asyncio.to_thread(procedure_for_channel, procedure_id[:64], handoff.channel) if handoff else None
    if handoff is None or text is None:
        return error("Démarche ou conversation introuvable.", 404)
    return json_reply({"text": text, "channel": handoff.channel})


@agent_api
async def add_note(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
    """A note for the team, never sent to the person."""
    agents = agents_of(request)
    handoff = await asyncio.to_thread(held_by, agents, public_id, session.agent.name)
    text = json_field(request, "text")
    if handoff is None:
        return error(NOT_YOURS, 409)
    if not isinstance(text, str):
        return error("Écrivez la note avant de l'enregistrer.", 400)
    try:
        note = await asyncio.to_thread(agents.tools.add_note, handoff.id, session.agent.public_name, text)
    except ToolError as exc:
        return error(str(exc), 400)
    hub_of(request).notify()
    return json_reply({"id": note.id}, status=201)


@agent_api
async def transfer(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
    """To an available colleague ({"to": id}) or back to the queue ({"to": null})."""
    agents = agents_of(request)
    target = json_field(request, "to")
    if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
        return error("« to » doit être l'identifiant d'une ou d'un collègue, ou null pour la file.", 400)
    handoff = await asyncio.to_thread(held_by, agents, public_id, session.agent.name)
    if handoff is None:
        return error(NOT_YOURS, 409)
    colleague = None
    if target is not None:
        present = await asyncio.to_thread(agents.directory.available_agents, utcnow(), agents.config.presence_minutes)
        colleague = next((a for a in present if a.id == target and a.id != session.agent.id), None)
        if colleague is None:
            return error("Cette personne n'est pas disponible en ce moment : choisissez quelqu'un d'autre, "
                         "ou remettez la conversation dans la file.", 409)
    try:
        moved = await desk_of(request).transfer(handoff.id, session.agent.name, colleague.name if colleague else None,
                                                colleague.public_name if colleague else None)
    except ConversationClosedError:
        return error(NOT_YOURS, 409)
    hub_of(request).notify()
    return json_reply({"request": request_summary(moved, utcnow()),
                       "to": colleague.public_name if colleague else None})


@agent_api
@admin_only(CANNED_FOR_ADMINS)
async def canned_add(request: Request, session: AgentSession) -> response.HTTPResponse:
    """A new canned answer for the whole team."""
    title, text = json_field(request, "title"), json_field(request, "text")
    if not isinstance(title, str) or not isinstance(text, str):
        return error("Donnez un titre et un texte à la réponse type.", 400)
    try:
        canned = await asyncio.to_thread(agents_of(request).tools.save_canned, title, text, session.agent.public_name)
    except ToolError as exc:
        return error(str(exc), 400)
    return json_reply({"id": canned.id if canned else None}, status=201)


@agent_api
@admin_only(CANNED_FOR_ADMINS)
async def canned_delete(request: Request, _: AgentSession, canned_id: int) -> response.HTTPResponse:
    """A canned answer the team no longer uses."""
    if not await asyncio.to_thread(agents_of(request).tools.delete_canned, canned_id):
        return error("Cette réponse type n'existe plus.", 404)
    return json_reply({"deleted": True})


@agent_api
async def callback_list(request: Request, _: AgentSession) -> response.HTTPResponse:
    """The callbacks people asked for and nobody made yet."""
    pending = await asyncio.to_thread(agents_of(request).callbacks.pending)
    return json_reply({"callbacks": [
        {"id": c.id, "phone": national(c.phone), "commune": c.commune, "topic": c.topic,
         "channel": c.channel, "requested_at": epoch(c.created_at)}
        for c in pending
    ]})


@agent_api
async def callback_done(request: Request, _: AgentSession, callback_id: int) -> response.HTTPResponse:
    """A callback made: the number is deleted."""
    if not await asyncio.to_thread(agents_of(request).callbacks.done, callback_id):
        return error("Ce rappel a déjà été traité.", 409)
    return json_reply({"deleted": True})


def register(app: Sanic) -> None:
    """Attach the tools of the console API (session cookie + X-CSRF-Token on POST)."""
    app.add_route(tool_list, "/agents/api/tools")
    app.add_route(colleagues, "/agents/api/colleagues")
    app.add_route(canned_for, f"{CONVERSATION_URL}/canned/<canned_id:int>")
    app.add_route(procedure_for, f"{CONVERSATION_URL}/procedure/<procedure_id:str>")
    app.add_route(add_note, f"{CONVERSATION_URL}/notes", methods=["POST"])
    app.add_route(transfer, f"{CONVERSATION_URL}/transfer", methods=["POST"])
    app.add_route(canned_add, "/agents/api/canned", methods=["POST"])
    app.add_route(canned_delete, "/agents/api/canned/<canned_id:int>/delete", methods=["POST"])
    app.add_route(callback_list, "/agents/api/callbacks")
    app.add_route(callback_done, "/agents/api/callbacks/<callback_id:int>/done", methods=["POST"])
