"""Configuration from environment variables, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from bot.paths import VAR_DIR


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _local_secret(name: str) -> str:
    """A secret from the environment, or one generated once and kept in var/ (never in the repo)."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / f".{name.lower()}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Settings:
    """Where the services listen and what they share (tokens, database)."""

    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://localhost:5005"))
    actions_url: str = field(default_factory=lambda: _env("ACTIONS_URL", "http://localhost:5055"))
    web_url: str = field(default_factory=lambda: _env("WEB_URL", "http://localhost:8080"))
    web_port: int = field(default_factory=lambda: int(_env("WEB_PORT", "8080")))
    database_url: str = field(
        default_factory=lambda: _env("NUMECRIVAIN_DB_URL", f"sqlite:///{VAR_DIR / 'numecrivain.db'}")
    )
    rasa_api_token: str = field(default_factory=lambda: _local_secret("RASA_API_TOKEN"))
    internal_token: str = field(default_factory=lambda: _local_secret("NUMECRIVAIN_INTERNAL_TOKEN"))


def get_settings() -> Settings:
    """Settings read from the environment now (cheap; call where needed)."""
    return Settings()
