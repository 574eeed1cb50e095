"""Configuration from environment variables, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bot.paths import VAR_DIR


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def private_var_dir() -> Path:
    """var/ readable by its owner only (0700): it holds the secrets and the SQLite files."""
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    if VAR_DIR.stat().st_mode & 0o077:
        VAR_DIR.chmod(0o700)
    return VAR_DIR


def _local_secret(name: str) -> str:
    """A secret from the environment, or one generated once and kept 0600 in var/ (never in the repo)."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = private_var_dir() / f".{name.lower()}"
    try:
        # O_EXCL with mode 0600: the file is never readable by others, not even for an instant.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as secret_file:
            secret_file.write(secrets.token_urlsafe(32))
    return path.read_text(encoding="utf-8").strip()


local_secret = _local_secret


@dataclass(frozen=True)
class Settings:
    """Where the services listen and what they share (tokens, database).

    rasa_api_token is the key Rasa's HTTP API checks JWTs with; clients send a short JWT, never the key.
    """

    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://localhost:5005"))
    actions_url: str = field(default_factory=lambda: _env("ACTIONS_URL", "http://localhost:5055"))
    web_url: str = field(default_factory=lambda: _env("WEB_URL", "http://localhost:8080"))
    web_port: int = field(default_factory=lambda: int(_env("WEB_PORT", "8080")))
    database_url: str = field(
        default_factory=lambda: _env("NUMECRIVAIN_DB_URL", f"sqlite:///{VAR_DIR / 'numecrivain.db'}")
    )
    rasa_api_token: str = field(default_factory=lambda: _local_secret("RASA_API_TOKEN"))
    internal_token: str = field(default_factory=lambda: _local_secret("NUMECRIVAIN_INTERNAL_TOKEN"))
    # Rasa puts it in the Authorization header of every action call (endpoints.yml); the action server checks it.
    actions_token: str = field(default_factory=lambda: _local_secret("NUMECRIVAIN_ACTIONS_TOKEN"))


def get_settings() -> Settings:
    """Settings read from the environment now (cheap; call where needed)."""
    return Settings()
