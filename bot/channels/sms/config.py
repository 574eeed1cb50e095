"""SMS channel settings: limits from credentials.yml, secrets and gateway addresses from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from bot.settings import EnvironmentSettings, local_secret

ANDROID = "android"
TWILIO = "twilio"
DEFAULT_FAKE_GATEWAY_PORT = 9090


class SmsSettings(EnvironmentSettings):
    """What the environment says about the SMS channel; a limit left unset here comes from credentials.yml."""

    gateway_url: str = Field(default="", env="SMS_GATEWAY_URL")
    fake_gateway: bool = Field(default=False, env="SMS_FAKE_GATEWAY")
    fake_gateway_port: int = Field(default=DEFAULT_FAKE_GATEWAY_PORT, env="SMS_FAKE_GATEWAY_PORT")
    # Where the fake gateway delivers what a phone "sends" (the launcher points it at Rasa).
    fake_gateway_webhook_url: str = Field(default="http://localhost:5005/webhooks/sms/android",
                                          env="SMS_BOT_WEBHOOK_URL")
    demo_number: str | None = Field(default=None, env="SMS_DEMO_NUMBER")  # `make sms`'s phone
    gateway_username: str = Field(default="numecrivain", env="SMS_GATEWAY_USERNAME")
    gateway_password: str = Field(default="", env="SMS_GATEWAY_PASSWORD")
    twilio_account_sid: str = Field(default="", env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field(default="", env="TWILIO_AUTH_TOKEN")
    twilio_from_number: str = Field(default="", env="TWILIO_FROM_NUMBER")
    twilio_api_url: str = Field(default="https://api.twilio.com", env="TWILIO_API_URL")
    default_gateway: str | None = Field(default=None, env="SMS_DEFAULT_GATEWAY")
    public_url: str | None = Field(default=None, env="SMS_PUBLIC_URL")
    max_segments: int | None = Field(default=None, gt=0, env="SMS_MAX_SEGMENTS")
    coalesce_seconds: float | None = Field(default=None, ge=0, env="SMS_COALESCE_SECONDS")
    inbox_lease_seconds: float | None = Field(default=None, gt=0, env="SMS_INBOX_LEASE_SECONDS")
    signature_window_seconds: int | None = Field(default=None, gt=0, env="SMS_SIGNATURE_WINDOW_SECONDS")
    max_replies_per_hour: int | None = Field(default=None, gt=0, env="SMS_MAX_REPLIES_PER_HOUR")
    max_inbound_per_hour: int | None = Field(default=None, gt=0, env="SMS_MAX_INBOUND_PER_HOUR")
    max_replies_per_hour_total: int | None = Field(default=None, gt=0, env="SMS_MAX_REPLIES_PER_HOUR_TOTAL")
    send_attempts: int | None = Field(default=None, gt=0, env="SMS_SEND_ATTEMPTS")
    send_backoff_seconds: float | None = Field(default=None, ge=0, env="SMS_SEND_BACKOFF_SECONDS")

    @property
    def android_api_url(self) -> str:
        """The Android gateway's API: SMS_GATEWAY_URL, else the fake gateway when asked for, else none ("")."""
        if self.gateway_url:
            return self.gateway_url.rstrip("/")
        return f"http://localhost:{self.fake_gateway_port}" if self.fake_gateway else ""

    def limit(self, options: Mapping[str, Any], key: str, default: float) -> float:
        """A numeric limit: environment first (handy in tests), then credentials.yml, then the default."""
        value = getattr(self, key)
        if value is None:
            value = options.get(key)
        return default if value in (None, "") else float(value)


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
        env = SmsSettings()
        return cls(
            android=AndroidGatewayConfig(
                api_url=env.android_api_url,
                username=env.gateway_username,
                password=env.gateway_password,
                signing_key=local_secret("SMS_WEBHOOK_SIGNING_KEY"),
            ),
            twilio=TwilioConfig(
                account_sid=env.twilio_account_sid,
                auth_token=env.twilio_auth_token,
                from_number=env.twilio_from_number,
                api_url=env.twilio_api_url.rstrip("/"),
            ),
            pepper=local_secret("NUMECRIVAIN_SMS_PEPPER"),
            default_gateway=env.default_gateway or str(options.get("gateway") or ANDROID),
            max_segments=int(env.limit(options, "max_segments", 2)),
            coalesce_seconds=env.limit(options, "coalesce_seconds", 2.0),
            inbox_lease_seconds=env.limit(options, "inbox_lease_seconds", 30.0),
            signature_window_seconds=int(env.limit(options, "signature_window_seconds", 300)),
            max_replies_per_hour=int(env.limit(options, "max_replies_per_hour", 20)),
            max_inbound_per_hour=int(env.limit(options, "max_inbound_per_hour", 60)),
            max_replies_per_hour_total=int(env.limit(options, "max_replies_per_hour_total", 2000)),
            send_attempts=int(env.limit(options, "send_attempts", 4)),
            send_backoff_seconds=env.limit(options, "send_backoff_seconds", 0.5),
            public_url=(env.public_url or str(options.get("public_url") or "")).rstrip("/"),
            extra=options,
        )


def uses_fake_gateway(environ: Mapping[str, str] | None = None) -> bool:
    """True only when asked for explicitly (SMS_FAKE_GATEWAY=1): a demo or a test, never a silent fallback."""
    return SmsSettings.from_environ(environ).fake_gateway


def sms_gateway_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when a real gateway is set: SMS Gateway for Android (SMS_GATEWAY_URL) or Twilio."""
    settings = SmsSettings.from_environ(environ)
    return bool(settings.gateway_url or settings.twilio_account_sid)


def android_api_url(environ: Mapping[str, str] | None = None) -> str:
    """The Android gateway's API: SMS_GATEWAY_URL, else the fake gateway when asked for, else none ("")."""
    return SmsSettings.from_environ(environ).android_api_url
