"""Handoff settings from the environment: service hours, presence window, timeouts, target."""

from __future__ import annotations

from pydantic import Field

from bot.settings import EnvironmentSettings

DEFAULT_SERVICE_HOURS = "Mo-Fr 09:00-17:00; PH off"


class HandoffConfig(EnvironmentSettings):
    """How the handoff behaves; every value has a safe default for a laptop."""

    service_hours: str = Field(default=DEFAULT_SERVICE_HOURS, env="NUMECRIVAIN_SERVICE_HOURS")
    timezone: str = Field(default="Europe/Paris", env="NUMECRIVAIN_TIMEZONE")
    presence_minutes: float = Field(default=5, gt=0, env="NUMECRIVAIN_AGENT_PRESENCE_MINUTES")
    wait_timeout_minutes: float = Field(default=15, gt=0, env="NUMECRIVAIN_HANDOFF_WAIT_MINUTES")
    idle_timeout_minutes: float = Field(default=15, gt=0, env="NUMECRIVAIN_HANDOFF_IDLE_MINUTES")
    watchdog_seconds: float = Field(default=20, gt=0, env="NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS")
    session_hours: float = Field(default=10, gt=0, env="NUMECRIVAIN_AGENT_SESSION_HOURS")
    session_idle_minutes: float = Field(default=60, gt=0, env="NUMECRIVAIN_AGENT_SESSION_IDLE_MINUTES")
    # How often an open conversation is re-read from Rasa as a safety net (0: never): the person's messages
    # arrive by push, this only catches a push that was lost.
    console_resync_seconds: float = Field(default=30.0, ge=0, env="NUMECRIVAIN_CONSOLE_RESYNC_SECONDS")
    target: str = Field(default="console", env="NUMECRIVAIN_HANDOFF_TARGET")
    # Abuse limits: requests for a person per conversation and per address in an hour, and requests from one
    # address waiting at the same time (a fresh conversation id per request must not fill the queue).
    requests_per_conversation_per_hour: int = Field(
        default=4, gt=0, env="NUMECRIVAIN_HANDOFF_PER_CONVERSATION_PER_HOUR")
    requests_per_address_per_hour: int = Field(default=10, gt=0, env="NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR")
    max_waiting_per_address: int = Field(default=3, gt=0, env="NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS")
    cookie_secure: bool = Field(default=False, env="NUMECRIVAIN_COOKIE_SECURE")
    # The satisfaction question after an agent closes (a council may choose not to ask).
    survey: bool = Field(default=True, env="NUMECRIVAIN_HANDOFF_SURVEY")


def get_handoff_config() -> HandoffConfig:
    """The configuration read from the environment now."""
    return HandoffConfig()
