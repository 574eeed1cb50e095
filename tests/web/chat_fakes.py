"""The demo page served without a portal, and a scripted socket.io server living in the page's WebSocket route.

Tests of what the widget does with the channel run against the real one (tests/web/chat_server.py). The scripted
server stays where only a conversation to display is needed (layout cases and screenshots, widget_screenshots.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Route, WebSocketRoute

from bot.channels.webchat import with_parts
from bot.web.widget import DEMO_CSS, content_security_policy, demo_page, widget_source

DEMO_ORIGIN = "https://mairie.test"
CHAT_SERVER = "https://chat.test"
SOCKET_PATTERN = re.compile(r".*/socket\.io/.*")
OPEN_PACKET = '0{"sid":"eio","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

Replier = Callable[[str], list[dict[str, Any]]]


def echo_reply(text: str) -> list[dict[str, Any]]:
    """The default scripted bot: repeats what it got, with a choice."""
    return [{"text": f"Reçu : {text}", "quick_replies": [{"content_type": "text", "title": "Voir les sujets",
                                                          "payload": "/help_menu"}]}]


class FakeChatServer:
    """Speaks the Engine.IO v4 / Socket.IO v5 packets Rasa's socket.io channel speaks, from inside Playwright."""

    def __init__(self, reply: Replier = echo_reply) -> None:
        self.reply = reply
        self.up = True
        self.sockets: list[WebSocketRoute] = []
        self.user_messages: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []
        self.session_requests: list[Any] = []
        self.handled_ids: set[str] = set()
        self.hold_acks = False
        self.unavailable_acks = 0  # the next N messages are refused as the real channel does when Rasa is down
        self.hold_replies = False  # the bot "thinks" until release()
        self._held: list[tuple[WebSocketRoute, str]] = []
        self._count = 0

    def attach(self, page: Page) -> None:
        """Route the page's socket.io WebSockets to this server."""
        page.route_web_socket(SOCKET_PATTERN, self._accept)

    def _accept(self, ws: WebSocketRoute) -> None:
        if not self.up:
            ws.close(code=1011, reason="down")
            return
        self.sockets.append(ws)
        ws.on_message(lambda message: self._on_message(ws, str(message)))
        ws.send(OPEN_PACKET)

    def _on_message(self, ws: WebSocketRoute, message: str) -> None:
        if message == "40":
            ws.send('40{"sid":"sio"}')
            return
        match = re.match(r"^42(\d*)(.*)$", message, re.S)
        if not match:
            return
        ack_id, (event, data) = match.group(1), json.loads(match.group(2))
        if event == "session_request":
            self.session_requests.append(data.get("session_id"))
            ws.send("42" + json.dumps(["session_confirm", data.get("session_id") or "fake-session"]))
        elif event == "user_uttered":
            if self.hold_replies:
                self._held.append((ws, message))
                return
            self.attempts.append(data)
            if self.unavailable_acks > 0:
                self.unavailable_acks -= 1
                if ack_id:
                    ws.send(f"43{ack_id}" + json.dumps([{"handled": False, "error": "unavailable"}]))
                return
            message_id = (data.get("metadata") or {}).get("message_id")
            if message_id is None or message_id not in self.handled_ids:  # the real channel skips a resent one
                if message_id is not None:
                    self.handled_ids.add(message_id)
                self.user_messages.append(data)
                for bot_message in self.reply(data.get("message", "")):
                    self._count += 1
                    uttered = with_parts({"id": f"bot-{self._count}", **bot_message})
                    ws.send("42" + json.dumps(["bot_uttered", uttered]))
            if ack_id and not self.hold_acks:
                ws.send(f"43{ack_id}" + json.dumps([{"handled": True}]))

    def push(self, message: dict[str, Any]) -> None:
        """Send a bot (or agent) message to every open socket, with its parts as the real channel adds them."""
        for ws in self.sockets:
            ws.send("42" + json.dumps(["bot_uttered", with_parts(dict(message))]))

    def release(self) -> None:
        """Answer the messages held while hold_replies was set, and stop holding."""
        self.hold_replies = False
        held, self._held = self._held, []
        for ws, message in held:
            self._on_message(ws, message)

    def go_down(self) -> None:
        """Close every socket and refuse new ones, as a stopped server would."""
        self.up = False
        for ws in self.sockets:
            ws.close(code=1006, reason="server stopped")
        self.sockets.clear()

    def come_back(self) -> None:
        """Accept connections again."""
        self.up = True

    @property
    def texts(self) -> list[str]:
        """What the bot received, in order."""
        return [m.get("message", "") for m in self.user_messages]


def serve_demo_page(page: Page, chat_server: str = CHAT_SERVER) -> list[str]:
    """Serve the portal's demo page and widget files on a fake origin; returns the list of requested URLs."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def fulfil(route: Route) -> None:
        path = route.request.url[len(DEMO_ORIGIN):].split("?")[0]
        if path == "/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=demo_page(chat_server),
                          headers={"Content-Security-Policy": content_security_policy(chat_server)})
        elif path == "/widget/demo.css":
            route.fulfill(status=200, content_type="text/css", body=DEMO_CSS)
        elif path in ("/widget/numecrivain.js", "/widget/numecrivain.css"):
            name = path.rsplit("/", 1)[1]
            kind = "text/javascript" if name.endswith(".js") else "text/css"
            route.fulfill(status=200, content_type=kind, body=widget_source(name))
        else:
            route.fulfill(status=404, body="")

    page.route(f"{DEMO_ORIGIN}/**", fulfil)
    return requested
