"""Web chat over socket.io, with Rasa 3.6's session persistence fixed (enter_room is awaited)."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class WebChatInput(SocketIOInput):
    """socket.io input whose session_request really joins the session room (python-socketio 5)."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        async def session_request(sid: str, data: Optional[dict[str, Any]]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id or len(session_id) > 64:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)  # the fix: Rasa 3.6 forgets this await
            await sio.emit("session_confirm", session_id, room=sid)

        sio.on("session_request", namespace=self.namespace)(session_request)
        return webhook
