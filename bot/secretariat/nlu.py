"""Client of the running Rasa server's /model/parse: the bot's own NLU model ranks the secretariat's questions."""

from __future__ import annotations

import logging

import aiohttp

from bot.service_auth import rasa_api_headers

logger = logging.getLogger(__name__)

PARSE_TIMEOUT_SECONDS = 3.0


class NluUnavailableError(RuntimeError):
    """The Rasa server did not answer (stopped, still loading, no model, wrong token)."""


class RasaNluClient:
    """Asks the Rasa HTTP API for an intent ranking (a short JWT in the header, signed with the API key)."""

    def __init__(self, rasa_url: str, token: str, timeout: float = PARSE_TIMEOUT_SECONDS) -> None:
        self._url = rasa_url.rstrip("/") + "/model/parse"
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def intent_ranking(self, text: str) -> dict[str, float]:
        """Intent name -> confidence for this text, as the bot itself would understand it."""
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session, session.post(
                self._url, headers=rasa_api_headers(self._token), json={"text": text}
            ) as response:
                if response.status != 200:
                    raise NluUnavailableError(f"Rasa answered HTTP {response.status}")
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise NluUnavailableError(str(exc) or type(exc).__name__) from exc
        ranking = body.get("intent_ranking") or ([body["intent"]] if body.get("intent") else [])
        return {
            item["name"]: float(item.get("confidence") or 0.0)
            for item in ranking
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
