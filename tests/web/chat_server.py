"""The real web chat channel for the browser tests: served from a thread of its own, answering with a scripted bot.

The widget in chromium talks to `bot.channels.webchat.WebChatInput` on a real python-socketio server, as it talks
to Rasa: signed sessions, acknowledgements, messages handled once, the kind sentence when Rasa fails. Only the
bot behind the channel is scripted, and the faults a test needs (Rasa restarting, the server stopping, a slow
bot) are made by the bot or by the server, never by imitating the channel's packets.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic, response
from sanic.request import Request

from bot.channels.webchat import WebChatInput
from tests.conftest import free_port

Replier = Callable[[str], list[dict[str, Any]]]
_apps = itertools.count()


def as_rasa_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message in the widget's format (quick_replies, custom) as the bot hands it to its output channel."""
    rasa: dict[str, Any] = {}
    if message.get("text"):
        rasa["text"] = message["text"]
    if message.get("quick_replies"):
        rasa["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in message["quick_replies"]]
    if "custom" in message:
        rasa["custom"] = message["custom"]
    return rasa


class LiveChatServer:
    """WebChatInput on 127.0.0.1, in a thread with its own event loop; what the bot was given, in order."""

    def __init__(self, reply: Replier, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
        monkeypatch.setenv("NUMECRIVAIN_INTERNAL_TOKEN", "test-internal-token")
        monkeypatch.setenv("NUMECRIVAIN_DB_URL", database_url)
        monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
        monkeypatch.setattr(Sanic, "test_mode", True)  # lets Sanic 21.12 start several servers in one process
        self.reply = reply
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.attempts: list[dict[str, Any]] = []  # every user message that reached the server, in order
        self.user_messages: list[dict[str, Any]] = []  # the messages the bot answered
        self.session_requests: list[Any] = []  # the session id each session_request carried
        self.unavailable_acks = 0  # the bot fails on the next N messages, as Rasa does while restarting
        self.up = True
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-chat-server", daemon=True)
        self._thread.start()
        self._replies_open = self._call(self._event())
        self._acks_open = self._call(self._event())
        channel = WebChatInput.from_credentials({"session_persistence": True})
        assert isinstance(channel, WebChatInput)
        self.channel = channel
        self._server: Any = self._call(self._start())

    # -- the thread's loop ------------------------------------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=60)

    @staticmethod
    async def _event() -> asyncio.Event:
        event = asyncio.Event()
        event.set()
        return event

    async def _bot(self, message: UserMessage) -> None:
        """The scripted bot: fails, waits or answers as the test asked."""
        given = {"message": message.text, "metadata": dict(message.metadata or {}), "sender_id": message.sender_id}
        await self._replies_open.wait()
        if self.unavailable_acks > 0:
            self.unavailable_acks -= 1
            raise ConnectionError("Rasa is restarting (scripted)")
        self.user_messages.append(given)
        for answer in self.reply(message.text or ""):
            await message.output_channel.send_response(message.sender_id, as_rasa_message(answer))
        await self._acks_open.wait()  # held: answered, but the receipt is not sent yet

    async def _start(self) -> Any:
        app = Sanic(f"live_chat_{next(_apps)}")

        @app.on_request
        async def refuse_while_down(_: Request) -> response.HTTPResponse | None:
            return None if self.up else response.text("down", status=503)

        app.blueprint(self.channel.blueprint(self._bot), url_prefix="/webhooks/webchat")
        signer = self.channel.signer
        assert signer is not None
        verify = signer.verify

        def recording_verify(token: Any, *args: Any, **kwargs: Any) -> Any:
            self.session_requests.append(token)
            return verify(token, *args, **kwargs)

        setattr(signer, "verify", recording_verify)  # noqa: B010  (a spy on the real signer)
        sio = self.channel.sio
        assert sio is not None
        handle_message = sio.handlers["/"][self.channel.user_message_evt]

        async def recording_handler(sid: str, data: Any) -> Any:
            if isinstance(data, dict):
                self.attempts.append({"message": data.get("message"), "metadata": data.get("metadata") or {}})
            return await handle_message(sid, data)

        sio.handlers["/"][self.channel.user_message_evt] = recording_handler
        server = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        return server

    async def _emit_to_all(self, message: dict[str, Any]) -> None:
        sio = self.channel.sio
        assert sio is not None
        for session in list(self.channel.sessions.values()):
            await sio.emit(self.channel.bot_message_evt, message, room=session.sender_id)

    async def _drop_connections(self) -> None:
        for connection in list(self._server.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    async def _set(self, event: asyncio.Event, is_open: bool) -> None:
        if is_open:
            event.set()
        else:
            event.clear()

    async def _stop(self) -> None:
        self._replies_open.set()
        self._acks_open.set()
        self._server.close()
        await self._server.wait_closed()

    # -- what the tests use -----------------------------------------------------------------------------------------

    @property
    def texts(self) -> list[str]:
        """What the bot answered, in order."""
        return [m["message"] for m in self.user_messages]

    def wait_for_last_text(self, text: str, timeout: float = 30) -> None:
        """Wait until the bot is handed `text`: the page shows a message before the channel has received it."""
        deadline = time.monotonic() + timeout
        while not (self.texts and self.texts[-1] == text):
            assert time.monotonic() < deadline, f"the bot never got {text!r}: {self.texts}"
            time.sleep(0.05)

    @property
    def hold_replies(self) -> bool:
        return not self._replies_open.is_set()

    @hold_replies.setter
    def hold_replies(self, held: bool) -> None:
        """The bot "thinks" (answers nothing) until release()."""
        self._call(self._set(self._replies_open, not held))

    def release(self) -> None:
        """Let the bot answer what it holds."""
        self.hold_replies = False

    @property
    def hold_acks(self) -> bool:
        return not self._acks_open.is_set()

    @hold_acks.setter
    def hold_acks(self, held: bool) -> None:
        """The bot answers, but its turn (and so the receipt) does not end until this is set back."""
        self._call(self._set(self._acks_open, not held))

    def push(self, message: dict[str, Any]) -> None:
        """Emit a bot (or agent) message, exactly as given, to every conversation with a socket."""
        self._call(self._emit_to_all(message))

    def go_down(self) -> None:
        """Drop every connection and refuse new ones, as a stopped server would."""
        self.up = False
        self._call(self._drop_connections())

    def come_back(self) -> None:
        """Accept connections again (same channel: sessions and handled messages are remembered)."""
        self.up = True

    def close(self) -> None:
        """Stop the server and its thread."""
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
