"""Outgoing SMS through a gateway's HTTP API, asynchronously, with retries and exponential backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp

from bot.channels.sms.config import AndroidGatewayConfig, TwilioConfig

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SendError(Exception):
    """The gateway did not accept the SMS after every attempt (the message carries no number)."""


class SmsSender(Protocol):
    """Anything that can hand one SMS text to a gateway."""

    name: str

    async def send(self, phone: str, text: str) -> None:
        """Send the text to the number, or raise SendError."""
        ...

    async def close(self) -> None:
        """Release the HTTP session."""
        ...


class _HttpSender:
    """Shared retry loop on one aiohttp session, created lazily inside the running event loop."""

    name = "http"

    def __init__(self, attempts: int = 4, backoff_seconds: float = 0.5, timeout_seconds: float = 10.0,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep  # the backoff's wait (tests record it instead of waiting)
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Release the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _post(self, url: str, *, auth: aiohttp.BasicAuth | None, **kwargs: Any) -> None:
        """POST with retries on network errors, 429 and 5xx; other 4xx fail at once (a retry won't help)."""
        last_error = "no attempt"
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._get_session().post(url, auth=auth, **kwargs) as response:
                    if response.status < 300:
                        return
                    last_error = f"HTTP {response.status}"
                    if response.status not in RETRYABLE_STATUS:
                        break
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_error = type(exc).__name__
            if attempt < self.attempts:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                logger.warning("SMS %s: attempt %d failed (%s), retrying in %.1f s",
                               self.name, attempt, last_error, delay)
                await self.sleep(delay)
        raise SendError(f"{self.name} gateway refused the SMS: {last_error}")


class AndroidGatewaySender(_HttpSender):
    """capcom6 'SMS Gateway for Android': POST {api}/message, basic auth (local server or cloud)."""

    name = "android"

    def __init__(self, config: AndroidGatewayConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config

    async def send(self, phone: str, text: str) -> None:
        """Queue the SMS on the phone that runs the gateway."""
        auth = aiohttp.BasicAuth(self.config.username, self.config.password) if self.config.password else None
        body = {"textMessage": {"text": text}, "phoneNumbers": [phone], "withDeliveryReport": False}
        await self._post(f"{self.config.api_url}/message", auth=auth, json=body)


class TwilioSender(_HttpSender):
    """Twilio REST API: POST /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, basic auth."""

    name = "twilio"

    def __init__(self, config: TwilioConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config

    async def send(self, phone: str, text: str) -> None:
        """Create one Message resource (Twilio splits it into segments itself)."""
        url = f"{self.config.api_url}/2010-04-01/Accounts/{self.config.account_sid}/Messages.json"
        auth = aiohttp.BasicAuth(self.config.account_sid, self.config.auth_token)
        await self._post(url, auth=auth, data={"To": phone, "From": self.config.from_number, "Body": text})
