"""A minimal socket.io client over a plain WebSocket: the same packets the widget sends, for server tests."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from websockets.legacy.client import connect  # what websockets.connect lazily names (typed)


class SocketIOClient:
    """Connects like the widget does (Engine.IO v4, WebSocket only) and collects the events it receives."""

    def __init__(self, server_url: str) -> None:
        self.url = server_url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self.events: list[tuple[str, Any]] = []
        self.acks: dict[str, Any] = {}
        self._ack_seq = 0
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SocketIOClient:
        self._ws = await connect(self.url)
        opening = await self._ws.recv()
        assert opening.startswith("0{"), opening
        await self._ws.send("40")
        connected = await self._ws.recv()
        assert connected.startswith("40"), connected
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader:
            self._reader.cancel()
        await self._ws.close()

    async def _read(self) -> None:
        async for raw in self._ws:
            if raw == "2":
                await self._ws.send("3")
            elif match := re.match(r"^42(\d*)(.*)$", raw, re.S):
                name, *args = json.loads(match.group(2))
                self.events.append((name, args[0] if args else None))
            elif match := re.match(r"^43(\d+)(.*)$", raw, re.S):
                self.acks[match.group(1)] = json.loads(match.group(2))

    async def emit(self, name: str, data: Any, ack: bool = False) -> str | None:
        """Send an event; with ack=True, returns the id whose acknowledgement wait_ack() awaits."""
        ack_id = ""
        if ack:
            self._ack_seq += 1
            ack_id = str(self._ack_seq)
        await self._ws.send("42" + ack_id + json.dumps([name, data]))
        return ack_id or None

    async def wait_for(self, name: str, count: int = 1, timeout: float = 60) -> list[Any]:
        """The data of the first `count` events of that name, waiting for them to arrive."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [data for event, data in self.events if event == name]
            if len(found) >= count:
                return found[:count]
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{count} '{name}' events expected, got {len(found)}: {self.events}")
            await asyncio.sleep(0.05)

    async def wait_ack(self, ack_id: str, timeout: float = 60) -> Any:
        """The acknowledgement the server sent for that event."""
        deadline = asyncio.get_running_loop().time() + timeout
        while ack_id not in self.acks:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no acknowledgement for {ack_id}")
            await asyncio.sleep(0.05)
        return self.acks[ack_id]

    async def wait_closed(self, timeout: float = 10) -> None:
        """Wait until the server closes the connection (TimeoutError if it does not)."""
        await asyncio.wait_for(self._ws.wait_closed(), timeout)

    async def start_session(self, session_id: str | None) -> str:
        """Ask for a session (joining its room) and return the id the server confirmed."""
        await self.emit("session_request", {"session_id": session_id})
        return (await self.wait_for("session_confirm"))[0]
