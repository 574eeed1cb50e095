"""Handoff settings from the environment: service hours, presence window, timeouts, target."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_SERVICE_HOURS = "Mo-Fr 09:00-17:00; PH off"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _count(name: str, default: int) -> int:
    try:
        value = int(_env(name, str(default)))
    except ValueError:
        return default
    return value if value > 0 else default


def _minutes(name: str, default: float) -> float:
    try:
        value = float(_env(name, str(default)))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class HandoffConfig:
    """How the handoff behaves; every value has a safe default for a laptop."""

    service_hours: str = field(default_factory=lambda: _env("NUMECRIVAIN_SERVICE_HOURS", DEFAULT_SERVICE_HOURS))
    timezone: str = field(default_factory=lambda: _env("NUMECRIVAIN_TIMEZONE", "Europe/Paris"))
    presence_minutes: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_AGENT_PRESENCE_MINUTES", 5))
    wait_timeout_minutes: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_HANDOFF_WAIT_MINUTES", 15))
    idle_timeout_minutes: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_HANDOFF_IDLE_MINUTES", 15))
    watchdog_seconds: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", 20))
    session_hours: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_AGENT_SESSION_HOURS", 10))
    session_idle_minutes: float = field(default_factory=lambda: _minutes("NUMECRIVAIN_AGENT_SESSION_IDLE_MINUTES", 60))
    target: str = field(default_factory=lambda: _env("NUMECRIVAIN_HANDOFF_TARGET", "console"))
    # Abuse limits: requests for a person per conversation and per address in an hour, and requests from one
    # address waiting at the same time (a fresh conversation id per request must not fill the queue).
    requests_per_conversation_per_hour: int = field(
        default_factory=lambda: _count("NUMECRIVAIN_HANDOFF_PER_CONVERSATION_PER_HOUR", 4))
    requests_per_address_per_hour: int = field(
        default_factory=lambda: _count("NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR", 10))
    max_waiting_per_address: int = field(
        default_factory=lambda: _count("NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS", 3))
    cookie_secure: bool = field(default_factory=lambda: _env("NUMECRIVAIN_COOKIE_SECURE", "0") == "1")


def get_handoff_config() -> HandoffConfig:
    """The configuration read from the environment now."""
    return HandoffConfig()
