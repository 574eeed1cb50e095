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
        port = _env("SMS_FAKE_GATEWAY_PORT", str(DEFAULT_FAKE_GATEWAY_PORT))
        return cls(
            android=AndroidGatewayConfig(
                api_url=_env("SMS_GATEWAY_URL", f"http://localhost:{port}").rstrip("/"),
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
    """True when no real gateway is configured, so `make run` starts the local fake one."""
    environ = os.environ if environ is None else environ
    real_android = bool(environ.get("SMS_GATEWAY_URL", "").strip())
    real_twilio = bool(environ.get("TWILIO_ACCOUNT_SID", "").strip())
    return not (real_android or real_twilio)
