"""SMS channel settings: limits from credentials.yml, secrets and gateway addresses from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.settings import _local_secret

ANDROID = "android"
TWILIO = "twilio"
DEFAULT_FAKE_GATEWAY_PORT = 9090


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _number(options: Mapping[str, Any], key: str, env: str, default: float) -> float:
    """A numeric option: environment first (handy in tests), then credentials.yml, then the default."""
    raw = _env(env) or options.get(key)
    return default if raw in (None, "") else float(raw)


@dataclass(frozen=True)
class AndroidGatewayConfig:
    """capcom6 'SMS Gateway for Android': its API (local or cloud) and the webhook signing key."""

    api_url: str
    username: str
    password: str
    signing_key: str

    @property
    def configured(self) -> bool:
        """True when there is an API to send through (a real gateway, or the fake one asked for)."""
        return bool(self.api_url)


@dataclass(frozen=True)
class TwilioConfig:
    """Twilio account used for the webhook signature and the Messages.json API."""

    account_sid: str
    auth_token: str
    from_number: str
    api_url: str = "https://api.twilio.com"

    @property
    def configured(self) -> bool:
        """True when Twilio can both be verified and used to send."""
        return bool(self.account_sid and self.auth_token and self.from_number)


@dataclass(frozen=True)
class SmsConfig:
    """Everything the SMS channel needs; build it with SmsConfig.load()."""

    android: AndroidGatewayConfig
    twilio: TwilioConfig
    pepper: str
    default_gateway: str = ANDROID
    max_segments: int = 2
    coalesce_seconds: float = 2.0
    # How long an accepted SMS stays with the process that holds it without news before another takes it over.
    inbox_lease_seconds: float = 30.0
    signature_window_seconds: int = 300
    max_replies_per_hour: int = 20
    max_inbound_per_hour: int = 60
    max_replies_per_hour_total: int = 2000
    send_attempts: int = 4
    send_backoff_seconds: float = 0.5
    public_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, options: Mapping[str, Any] | None = None) -> SmsConfig:
        """Read the channel options (credentials.yml) and the environment (secrets, gateway URLs)."""
        options = dict(options or {})
        return cls(
            android=AndroidGatewayConfig(
                api_url=android_api_url(),
                username=_env("SMS_GATEWAY_USERNAME", "numecrivain"),
                password=_env("SMS_GATEWAY_PASSWORD"),
                signing_key=_local_secret("SMS_WEBHOOK_SIGNING_KEY"),
            ),
            twilio=TwilioConfig(
                account_sid=_env("TWILIO_ACCOUNT_SID"),
                auth_token=_env("TWILIO_AUTH_TOKEN"),
                from_number=_env("TWILIO_FROM_NUMBER"),
                api_url=_env("TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
            ),
            pepper=_local_secret("NUMECRIVAIN_SMS_PEPPER"),
            default_gateway=_env("SMS_DEFAULT_GATEWAY", str(options.get("gateway") or ANDROID)),
            max_segments=int(_number(options, "max_segments", "SMS_MAX_SEGMENTS", 2)),
            coalesce_seconds=_number(options, "coalesce_seconds", "SMS_COALESCE_SECONDS", 2.0),
            inbox_lease_seconds=_number(options, "inbox_lease_seconds", "SMS_INBOX_LEASE_SECONDS", 30.0),
            signature_window_seconds=int(
                _number(options, "signature_window_seconds", "SMS_SIGNATURE_WINDOW_SECONDS", 300)
            ),
            max_replies_per_hour=int(_number(options, "max_replies_per_hour", "SMS_MAX_REPLIES_PER_HOUR", 20)),
            max_inbound_per_hour=int(_number(options, "max_inbound_per_hour", "SMS_MAX_INBOUND_PER_HOUR", 60)),
            max_replies_per_hour_total=int(
                _number(options, "max_replies_per_hour_total", "SMS_MAX_REPLIES_PER_HOUR_TOTAL", 2000)
            ),
            send_attempts=int(_number(options, "send_attempts", "SMS_SEND_ATTEMPTS", 4)),
            send_backoff_seconds=_number(options, "send_backoff_seconds", "SMS_SEND_BACKOFF_SECONDS", 0.5),
            public_url=_env("SMS_PUBLIC_URL", str(options.get("public_url") or "")).rstrip("/"),
            extra=options,
        )


def uses_fake_gateway(environ: Mapping[str, str] | None = None) -> bool:
    """True only when asked for explicitly (SMS_FAKE_GATEWAY=1): a demo or a test, never a silent fallback."""
    environ = os.environ if environ is None else environ
    return environ.get("SMS_FAKE_GATEWAY", "").strip() == "1"


def sms_gateway_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when a real gateway is set: SMS Gateway for Android (SMS_GATEWAY_URL) or Twilio."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("SMS_GATEWAY_URL", "").strip() or environ.get("TWILIO_ACCOUNT_SID", "").strip())


def android_api_url(environ: Mapping[str, str] | None = None) -> str:
    """The Android gateway's API: SMS_GATEWAY_URL, else the fake gateway when asked for, else none ("")."""
    environ = os.environ if environ is None else environ
    configured = environ.get("SMS_GATEWAY_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    if uses_fake_gateway(environ):
        port = environ.get("SMS_FAKE_GATEWAY_PORT", "").strip() or str(DEFAULT_FAKE_GATEWAY_PORT)
        return f"http://localhost:{port}"
    return ""
