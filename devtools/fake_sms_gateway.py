"""For demos and tests only: a stand-in for SMS Gateway for Android (and Twilio's API) that records what is sent.

    python -m devtools.fake_sms_gateway --port 9090 --webhook-url http://localhost:5005/webhooks/sms/android

`make run SMS_FAKE_GATEWAY=1` starts it; without that flag nothing fakes SMS sending.

- POST /message                      the android-sms-gateway send API ({"textMessage": {"text"}, "phoneNumbers"})
- POST /2010-04-01/Accounts/{sid}/Messages.json   Twilio's send API (form To, From, Body)
- GET  /messages[?phoneNumber=..&after=ID]        what would have been sent (JSON list)
- DELETE /messages                   forget them
- POST /inbound {"phoneNumber", "message"[, "receivedAt"]}   post a signed sms:received webhook to the bot
- POST /control {"fail_next": N}     answer the next N sends with 503 (to try the bot's retries)
Nothing leaves the machine; phone numbers are kept in memory only and never logged.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import aiohttp
from aiohttp import web

from bot.channels.sms.signatures import android_signature
from bot.gsm7 import is_gsm7, segment_count

logger = logging.getLogger("numecrivain.fake_gateway")


@dataclass
class SentSms:
    """One SMS the bot asked the gateway to send."""

    id: int
    to: str
    text: str
    api: str
    segments: int
    gsm7: bool
    at: float


def android_webhook_body(phone: str, text: str, received_at: datetime | None = None,
                         event_id: str | None = None) -> bytes:
    """The JSON of an sms:received webhook, as SMS Gateway for Android posts it."""
    moment = (received_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    event = {
        "deviceId": "fake-gateway",
        "event": "sms:received",
        "id": event_id or uuid.uuid4().hex[:21],
        "payload": {
            "messageId": uuid.uuid4().hex[:12],
            "message": text,
            "phoneNumber": phone,
            "simNumber": 1,
            "receivedAt": moment.isoformat(timespec="milliseconds"),
        },
        "webhookId": "fake-gateway-webhook",
    }
    return json.dumps(event, ensure_ascii=False).encode()


def android_webhook_headers(signing_key: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Content type, X-Timestamp and X-Signature for a webhook body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"Content-Type": "application/json", "X-Timestamp": stamp,
            "X-Signature": android_signature(signing_key, body, stamp)}


async def post_android_webhook(session: aiohttp.ClientSession, url: str, signing_key: str, phone: str, text: str,
                               received_at: datetime | None = None) -> int:
    """Post one signed sms:received webhook to the bot; the HTTP status it answered."""
    body = android_webhook_body(phone, text, received_at)
    async with session.post(url, data=body, headers=android_webhook_headers(signing_key, body)) as response:
        await response.read()
        return response.status


class FakeGateway:
    """The recorded SMS and the few knobs tests need."""

    def __init__(self, signing_key: str = "", webhook_url: str = "", username: str = "", password: str = "") -> None:
        self.signing_key = signing_key
        self.webhook_url = webhook_url
        self.username = username
        self.password = password
        self.sent: list[SentSms] = []
        self.fail_next = 0
        self._ids = itertools.count(1)

    def _authorised(self, request: web.Request) -> bool:
        if not self.password:
            return True
        try:
            auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return False
        return auth.login == self.username and auth.password == self.password

    def _record(self, to: str, text: str, api: str) -> SentSms:
        sms = SentSms(next(self._ids), to, text, api, segment_count(text) if is_gsm7(text) else -1,
                      is_gsm7(text), time.time())
        self.sent.append(sms)
        logger.info("fake gateway: SMS #%d recorded (%s, %d segment(s))", sms.id, api, sms.segments)
        return sms

    def _should_fail(self) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return False

    async def send_android(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self._should_fail():
            return web.json_response({"message": "temporarily unavailable"}, status=503)
        try:
            data = await request.json()
            text = data["textMessage"]["text"] if "textMessage" in data else data["message"]
            numbers = list(data["phoneNumbers"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"message": "textMessage.text and phoneNumbers are required"}, status=400)
        recorded = [self._record(number, text, "android") for number in numbers]
        return web.json_response({
            "id": uuid.uuid4().hex[:21], "state": "Pending", "isHashed": False, "isEncrypted": False,
            "recipients": [{"phoneNumber": r.to, "state": "Pending"} for r in recorded],
        }, status=202)

    async def send_twilio(self, request: web.Request) -> web.Response:
        if self._should_fail():
            return web.json_response({"message": "temporarily unavailable"}, status=503)
        form = await request.post()
        if not form.get("To") or form.get("Body") is None:
            return web.json_response({"code": 21604, "message": "To and Body are required"}, status=400)
        sms = self._record(str(form["To"]), str(form["Body"]), "twilio")
        answer = {"sid": f"SM{uuid.uuid4().hex}", "status": "queued", "num_segments": str(sms.segments)}
        return web.json_response(answer, status=201)

    async def list_messages(self, request: web.Request) -> web.Response:
        phone = request.query.get("phoneNumber")
        after = int(request.query.get("after", "0") or 0)
        found = [asdict(s) for s in self.sent if s.id > after and (phone is None or s.to == phone)]
        return web.json_response(found)

    async def clear_messages(self, _: web.Request) -> web.Response:
        self.sent.clear()
        return web.json_response({"cleared": True})

    async def inbound(self, request: web.Request) -> web.Response:
        if not self.webhook_url or not self.signing_key:
            return web.json_response({"error": "no webhook URL or signing key"}, status=409)
        data = await request.json()
        received_at = datetime.fromisoformat(data["receivedAt"]) if data.get("receivedAt") else None
        async with aiohttp.ClientSession() as session:
            status = await post_android_webhook(session, self.webhook_url, self.signing_key,
                                                str(data["phoneNumber"]), str(data["message"]), received_at)
        return web.json_response({"bot_status": status})

    async def control(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.fail_next = int(data.get("fail_next", 0))
        return web.json_response({"fail_next": self.fail_next})

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "recorded": len(self.sent)})

    def app(self) -> web.Application:
        """The aiohttp application (tests can run it in-process)."""
        application = web.Application()
        application.add_routes([
            web.post("/message", self.send_android),
            web.post("/3rdparty/v1/message", self.send_android),
            web.post("/2010-04-01/Accounts/{sid}/Messages.json", self.send_twilio),
            web.get("/messages", self.list_messages),
            web.delete("/messages", self.clear_messages),
            web.post("/inbound", self.inbound),
            web.post("/control", self.control),
            web.get("/health", self.health),
        ])
        return application


def main(argv: list[str] | None = None) -> None:
    from bot.channels.sms.config import SmsSettings
    from bot.settings import local_secret

    settings = SmsSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.fake_gateway_port)
    parser.add_argument("--webhook-url", default=settings.fake_gateway_webhook_url)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    gateway = FakeGateway(
        signing_key=local_secret("SMS_WEBHOOK_SIGNING_KEY"),
        webhook_url=args.webhook_url,
        username=settings.gateway_username,
        password=settings.gateway_password,
    )
    print(f"Passerelle SMS factice sur http://{args.host}:{args.port}/messages", flush=True)
    web.run_app(gateway.app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
