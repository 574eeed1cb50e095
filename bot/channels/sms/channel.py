"""The Rasa input channel `sms`: signed webhooks of SMS Gateway for Android and Twilio, and the agent relay."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.future import Engine

from bot.channels.inputs import BodyTooLargeError, read_body
from bot.channels.sms.coalesce import InboundSms
from bot.channels.sms.config import ANDROID, TWILIO, SmsConfig
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.senders import AndroidGatewaySender, SmsSender, TwilioSender
from bot.channels.sms.service import CHANNEL_NAME, DEFAULT_AGENT_ROLE, RelayResult, SmsService, utc_now
from bot.channels.sms.signatures import SignatureError, verify_android, verify_twilio
from bot.channels.sms.store import SmsStore
from bot.handoff.survey import sms_answerer
from bot.service_auth import bearer_matches
from bot.settings import get_settings

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_AGENT_TEXT = 1600
MAX_WEBHOOK_BYTES = 16 * 1024  # one SMS of 1,600 characters with its JSON or form envelope, with room to spare


def parse_received_at(value: Any, default: datetime) -> datetime:
    """The gateway's receivedAt (ISO 8601, device time zone) as naive UTC; `default` when absent or wrong."""
    if not isinstance(value, str) or not value:
        return default
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def handoff_checker(engine: Engine) -> Callable[[str], bool]:
    """Whether an SMS conversation waits for, or talks with, a person (the handoff queue in the same database)."""
    queues: list[Any] = []

    def waits_for_person(pseudonym: str) -> bool:
        from bot.handoff.store import HandoffQueue

        try:
            if not queues:
                queues.append(HandoffQueue(engine))
            return queues[0].open_request_for(pseudonym) is not None
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("SMS: handoff queue unreadable (%s), '0' stays offered", type(exc).__name__)
            return False

    return waits_for_person


def default_senders(config: SmsConfig) -> dict[str, SmsSender]:
    """One sender per configured gateway; none at all is said loudly, never faked."""
    options = {"attempts": config.send_attempts, "backoff_seconds": config.send_backoff_seconds}
    senders: dict[str, SmsSender] = {}
    if config.android.configured:
        senders[ANDROID] = AndroidGatewaySender(config.android, **options)
    if config.twilio.configured:
        senders[TWILIO] = TwilioSender(config.twilio, **options)
    if not senders:
        logger.error("SMS sending is OFF: no gateway configured (SMS_GATEWAY_URL, or TWILIO_ACCOUNT_SID, "
                     "TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER). For a local demo only: SMS_FAKE_GATEWAY=1.")
    return senders


class SmsInput(InputChannel):
    """SMS for basic phones; register in credentials.yml as `bot.channels.sms.SmsInput`."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> InputChannel:
        return cls(SmsConfig.load(credentials or {}))

    def __init__(
        self,
        config: SmsConfig,
        store: SmsStore | None = None,
        senders: Mapping[str, SmsSender] | None = None,
        clock: Callable[[], datetime] = utc_now,
        internal_token: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.senders = senders
        self.clock = clock
        self.internal_token = internal_token
        self.service: SmsService | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def get_output_channel(self) -> OutputChannel | None:
        """Messages pushed outside a turn (no recipient known here) are not sent by SMS."""
        return None

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every accepted webhook is processed (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        store = self.store or SmsStore()
        senders = self.senders if self.senders is not None else default_senders(self.config)
        service = SmsService(self.config, store, senders, on_new_message, self.clock,
                             with_person=handoff_checker(store.engine), survey=sms_answerer(store.engine))
        self.service = service
        token = self.internal_token if self.internal_token is not None else get_settings().internal_token
        hooks = SmsWebhooks(self.config, store, service, self.clock, token, self._spawn)
        sms = Blueprint("sms_webhook", __name__)
        sms.add_route(handler(hooks.health), "/", methods=["GET"], name="health")
        sms.add_route(handler(hooks.android), "/android", methods=["POST"], name="android", stream=True)
        sms.add_route(handler(hooks.android), "/webhook", methods=["POST"], name="webhook", stream=True)
        sms.add_route(handler(hooks.twilio), "/twilio", methods=["POST"], name="twilio", stream=True)
        sms.add_route(handler(hooks.agent_message), "/agent_message", methods=["POST"], name="agent_message")
        recovery: list[asyncio.Task[None]] = []

        async def start_recovery(*_: Any) -> None:
            """Take over, at start-up and then periodically, the SMS a killed process accepted and left."""
            interval = max(0.5, self.config.inbox_lease_seconds / 3)
            recovery.append(asyncio.create_task(service.run_recovery(interval)))

        async def close_senders(*_: Any) -> None:
            for task in recovery:
                task.cancel()
            await self.idle()
            await service.close()

        sms.listener("after_server_start")(start_recovery)
        sms.listener("before_server_stop")(close_senders)
        return sms


def handler(method: Callable[[Request], Awaitable[HTTPResponse]]
            ) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    """A plain function around a bound method: Sanic marks its handlers (e.g. as streaming) with attributes."""

    async def handle(request: Request) -> HTTPResponse:
        return await method(request)

    return handle


class SmsWebhooks:
    """The channel's HTTP handlers: the gateways' signed webhooks and the agents' relay."""

    def __init__(self, config: SmsConfig, store: SmsStore, service: SmsService, clock: Callable[[], datetime],
                 token: str, spawn: Callable[[Coroutine[Any, Any, Any]], None]) -> None:
        self.config = config
        self.store = store
        self.service = service
        self.clock = clock
        self.token = token
        self.spawn = spawn

    async def health(self, _: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    async def accept(self, sms_message: InboundSms) -> HTTPResponse | None:
        """Store the SMS in the inbox (committed) before answering: a process killed later loses nothing.

        A database that cannot store it gets a 503, so the gateway retries; a provider id already stored is
        a retried webhook, answered without a second reply.
        """
        try:
            accepted = await self.service.accept(sms_message)
        except (SQLAlchemyError, OSError) as exc:
            logger.error("SMS not stored (%s): the gateway is asked to retry", type(exc).__name__)
            return response.json({"error": "temporarily unavailable"}, status=503)
        if accepted is None:
            return response.json({"status": "duplicate"})
        self.spawn(self.service.dispatch(pseudonymise(sms_message.phone, self.config.pepper), accepted))
        return None

    async def refuse_replay(self, signature: str) -> None:
        """SignatureError for a signature already accepted, here or by another process (the database knows)."""
        if not await asyncio.to_thread(self.store.first_time_seen, f"signature:{signature}", self.clock()):
            raise SignatureError("replayed webhook")

    async def android(self, request: Request) -> HTTPResponse:
        body = await bounded_body(request)
        if isinstance(body, HTTPResponse):
            return body
        signature = request.headers.get("X-Signature")
        try:
            verify_android(self.config.android.signing_key, body, request.headers.get("X-Timestamp"),
                           signature, window_seconds=self.config.signature_window_seconds)
            await self.refuse_replay(f"android:{signature}")
        except SignatureError as exc:
            logger.warning("SMS webhook (android) rejected: %s", exc)
            return response.json({"error": "invalid signature"}, status=401)
        try:
            event = json.loads(body)
        except ValueError:
            return response.json({"error": "body is not JSON"}, status=400)
        if not isinstance(event, dict) or event.get("event") != "sms:received":
            kind = event.get("event") if isinstance(event, dict) else None
            if kind == "sms:failed":
                logger.warning("SMS gateway reports a failed SMS")
            return response.json({"status": "ignored", "event": kind})
        payload = event.get("payload") or {}
        phone, text = payload.get("phoneNumber"), payload.get("message")
        if not isinstance(phone, str) or not phone.strip() or not isinstance(text, str):
            return response.json({"error": "payload needs phoneNumber and message"}, status=400)
        received_at = parse_received_at(payload.get("receivedAt"), self.clock())
        inbound = InboundSms(received_at, text, phone, ANDROID, str(event.get("id") or ""))
        refused = await self.accept(inbound)
        return refused or response.json({"status": "accepted"})

    def public_url(self, request: Request) -> str:
        """The URL Twilio signed: the public one when the service sits behind a proxy."""
        if not self.config.public_url:
            return request.url
        url = f"{self.config.public_url}{request.path}"
        return f"{url}?{request.query_string}" if request.query_string else url

    async def twilio(self, request: Request) -> HTTPResponse:
        body = await bounded_body(request)
        if isinstance(body, HTTPResponse):
            return body
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            return response.json({"error": "body is not a form"}, status=400)
        params = {key: values[0] for key, values in form.items() if values}
        signature = request.headers.get("X-Twilio-Signature")
        try:
            verify_twilio(self.config.twilio.auth_token, self.public_url(request), params, signature)
            await self.refuse_replay(f"twilio:{signature}")
        except SignatureError as exc:
            logger.warning("SMS webhook (twilio) rejected: %s", exc)
            return response.json({"error": "invalid signature"}, status=401)
        phone, text = params.get("From", ""), params.get("Body")
        if not phone.strip() or text is None:
            return response.json({"error": "From and Body are required"}, status=400)
        key = params.get("MessageSid") or params.get("SmsSid") or ""
        refused = await self.accept(InboundSms(self.clock(), text, phone, TWILIO, key))
        if refused is not None and refused.status >= 500:
            return refused
        return response.text(EMPTY_TWIML, content_type="text/xml")  # a duplicate gets the same empty answer

    async def agent_message(self, request: Request) -> HTTPResponse:
        if not bearer_matches(request.headers.get("Authorization"), self.token):
            return response.json({"error": "unauthorised"}, status=401)
        if len(request.body or b"") > MAX_WEBHOOK_BYTES:
            return response.json({"error": f"body larger than {MAX_WEBHOOK_BYTES} bytes"}, status=413)
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("sender_id"), str) \
                or not isinstance(data.get("text"), str) or not data["text"].strip():
            return response.json({"error": "sender_id and text are required"}, status=400)
        if len(data["text"]) > MAX_AGENT_TEXT:
            return response.json({"error": f"text longer than {MAX_AGENT_TEXT} characters"}, status=400)
        result = await self.service.relay_agent_message(
            data["sender_id"], data["text"], str(data.get("agent") or ""),
            str(data.get("role") or DEFAULT_AGENT_ROLE))
        status = {RelayResult.DELIVERED: 200, RelayResult.UNKNOWN_SENDER: 404,
                  RelayResult.UNSUBSCRIBED: 409, RelayResult.FAILED: 502}[result]
        body: dict[str, Any] = {"delivered": result is RelayResult.DELIVERED}
        if result is not RelayResult.DELIVERED:
            body["error"] = result.value
        return response.json(body, status=status)


async def bounded_body(request: Request) -> bytes | HTTPResponse:
    """The webhook's body, or the error answer for a body too large or too slow."""
    try:
        return await read_body(request, MAX_WEBHOOK_BYTES)
    except BodyTooLargeError:
        return response.json({"error": f"body larger than {MAX_WEBHOOK_BYTES} bytes"}, status=413)
    except asyncio.TimeoutError:
        return response.json({"error": "body too slow"}, status=408)
