"""What Rasa does when a message is resent or a service fails: each message once, and a kind answer, never silence.

Installed in the Rasa process by `bot.rasa_server` (two small wrappers around Rasa 3.6's own classes):

- **Each user message is stored once.** A client that did not get its answer (a Rasa process killed, a 502 from
  the proxy, a timeout) sends the same message again with the same id (`metadata.message_id`; the channels
  also give it to Rasa as the message id). Inside the conversation lock (the Redis lock store when there are
  several Rasa processes), before the turn, the stored conversation is searched for a user message with that
  id: if it is there, the turn already ran and was saved, so the message is not handled again; a client that
  collects replies (REST) gets the replies stored after it. Rasa saves a turn all at once, at its end, so a
  process killed mid-turn left nothing: the resent message runs normally.
- **An action that fails or takes too long** (action server down, restarting, or slower than
  `NUMECRIVAIN_ACTION_TIMEOUT_SECONDS`) gives the person an apology, the way to do it without the Internet and
  the phone line, and the "Parler à une personne" choice, instead of silence.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from bot.replies import HUMAN_BUTTON, PHONE_HELP, PLACES_BUTTON
from bot.settings import RasaProcessSettings

logger = logging.getLogger(__name__)

MESSAGE_ID_KEY = "message_id"
ACTION_UNAVAILABLE_TEXT = (
    "Désolé, je ne peux pas vous répondre tout de suite : un de nos services ne répond pas.\n\n"
    f"Sans Internet, vous pouvez appeler {PHONE_HELP}, ou aller dans un lieu "
    "d'aide au numérique près de chez vous.\n\n"
    "Vous pouvez aussi réessayer dans une minute, ou parler à une personne."
)
ACTION_UNAVAILABLE_BUTTONS = [PLACES_BUTTON.as_dict(), HUMAN_BUTTON.as_dict()]
# Said by the channels when a message could not be handled at all (database or Redis restarting).
SERVICE_UNAVAILABLE_TEXT = (
    "Désolé, un souci technique m'empêche de vous répondre. Votre message n'est pas perdu : "
    f"renvoyez-le dans une minute. En cas d'urgence, appelez {PHONE_HELP}."
)

_installed = False


def action_timeout_seconds() -> float:
    """How long an action may take before the person gets the apology (NUMECRIVAIN_ACTION_TIMEOUT_SECONDS)."""
    return RasaProcessSettings().action_timeout_seconds


def client_message_id(metadata: Any) -> str | None:
    """The id a channel gave to a user message (short string), or None."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get(MESSAGE_ID_KEY)
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None


def replies_after(events: list[Any], message_id: str) -> list[dict[str, Any]] | None:
    """The bot messages stored after the user message with this id; None when no such user message is stored."""
    from rasa.shared.core.events import BotUttered, UserUttered

    found: list[dict[str, Any]] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if found is not None:
                break
            if event.message_id == message_id:
                found = []
        elif found is not None and isinstance(event, BotUttered):
            found.append(event.message())
    return found


def _sql_store(store: Any) -> Any:
    """Rasa's SQL tracker store under its fail-safe and awaitable wrappers, or None."""
    from rasa.core.tracker_store import SQLTrackerStore

    for _ in range(4):
        if isinstance(store, SQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def stored_user_message(store: Any, sender_id: str, message_id: str) -> bool:
    """Whether this conversation has a user message with this id: one indexed query, not a whole tracker load.

    Other tracker stores (in memory, in tests) are asked for the whole conversation.
    """
    sql_store = _sql_store(store)
    if sql_store is None:
        return True  # unknown store: let the caller look in the tracker itself
    from rasa.core.tracker_store import SQLTrackerStore

    quoted = json.dumps(message_id)
    pattern = '%"message_id": ' + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    event = SQLTrackerStore.SQLEvent
    with sql_store.session_scope() as session:
        found = session.query(event.id).filter(
            event.sender_id == sender_id, event.type_name == "user", event.data.like(pattern, escape="\\"),
        ).first()
    return found is not None


def install() -> None:
    """Wrap Rasa's message processor and remote action once (idempotent)."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    handle_message = MessageProcessor.handle_message
    run_remote_action = RemoteAction.run

    async def handle_message_once(self: MessageProcessor, message: Any) -> Any:
        message_id = client_message_id(message.metadata)
        if message_id is not None and stored_user_message(self.tracker_store, message.sender_id, message_id):
            tracker = await self.tracker_store.retrieve(message.sender_id)
            replies = replies_after(list(tracker.events), message_id) if tracker is not None else None
            if replies is not None:
                logger.info("A resent message was already handled: not handled again.")
                if isinstance(message.output_channel, CollectingOutputChannel):
                    for reply in replies:
                        await message.output_channel.send_response(message.sender_id, reply)
                    return message.output_channel.messages
                return None
        return await handle_message(self, message)

    async def run_or_apologise(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                               domain: Any) -> list[Any]:
        from rasa.core.actions.action import ActionExecutionRejection

        try:
            return await asyncio.wait_for(run_remote_action(self, output_channel, nlg, tracker, domain),
                                          timeout=action_timeout_seconds())
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as exc:
            logger.error("Action %s failed (%s): the person gets the apology.", self.name(), type(exc).__name__)
            return [BotUttered(ACTION_UNAVAILABLE_TEXT, data={"buttons": ACTION_UNAVAILABLE_BUTTONS},
                               metadata={"numecrivain_fallback": "action_unavailable"})]

    MessageProcessor.handle_message = handle_message_once  # type: ignore[method-assign]
    RemoteAction.run = run_or_apologise  # type: ignore[method-assign]
    _installed = True
