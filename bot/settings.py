"""Configuration from environment variables, with safe defaults for a laptop.

Every section of settings is an `EnvironmentSettings`: one way to read a variable, one rule for blanks, one kind
of error. The shared sections are here; a package with settings of its own declares its section beside its code
(`bot.handoff.config.HandoffConfig`, `bot.channels.sms.config.SmsSettings`, `bot.privacy.retention.RetentionPolicy`,
`bot.security.ratelimit.RateLimitSettings`, the launchers' `RestartSettings` and `ProdSettings`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, BaseSettings, Field
from pydantic.fields import ModelField
from sqlalchemy.engine import URL

from bot.paths import PROJECT_ROOT, VAR_DIR


class EnvironmentSettings(BaseSettings):
    """Settings read from environment variables: each field names its own with `env=`.

    A variable unset or blank means the default (as `${NAME:-default}` in a shell); a value that does not fit
    raises pydantic's ValidationError naming the variable, so a typo stops the start, not a person's turn.
    Values given as keywords win over the environment (tests, benches).
    """

    class Config:
        allow_population_by_field_name = True
        frozen = True

        @classmethod
        def prepare_field(cls, field: ModelField) -> None:
            """The variable's name is the field's alias: the key values are read by, and what errors show."""
            variable = field.field_info.extra["env"]
            field.alias, field.has_alias = variable, True
            field.field_info.extra["env_names"] = {variable}

        @classmethod
        def customise_sources(cls, init_settings: Any, env_settings: Any, file_secret_settings: Any) -> tuple[Any, ...]:
            """Keywords first, then the variables that are set and not blank (no .env file, no secrets folder)."""
            return init_settings, lambda settings: _set_variables(type(settings), os.environ)

    @classmethod
    def from_environ(cls: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
        """The settings read from this environment (a child process's, before it starts), else from os.environ."""
        settings = cls.__new__(cls)
        BaseModel.__init__(settings, **_set_variables(cls, os.environ if environ is None else environ))
        return settings


SettingsT = TypeVar("SettingsT", bound=EnvironmentSettings)


def _set_variables(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, str]:
    """The variables a model reads that are set to something else than blanks, by field name."""
    return {name: environ[field.alias].strip() for name, field in model.__fields__.items()
            if environ.get(field.alias, "").strip()}


def private_var_dir() -> Path:
    """var/ readable by its owner only (0700): it holds the secrets and the SQLite files."""
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    if VAR_DIR.stat().st_mode & 0o077:
        VAR_DIR.chmod(0o700)
    return VAR_DIR


def local_secret(name: str) -> str:
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


class Settings(EnvironmentSettings):
    """Where the services listen and what they share (tokens, database).

    rasa_api_token is the key Rasa's HTTP API checks JWTs with; clients send a short JWT, never the key.
    """

    rasa_url: str = Field(default="http://localhost:5005", env="RASA_URL")
    actions_url: str = Field(default="http://localhost:5055", env="ACTIONS_URL")
    web_url: str = Field(default="http://localhost:8080", env="WEB_URL")
    web_port: int = Field(default=8080, env="WEB_PORT")
    database_url: str = Field(default_factory=lambda: f"sqlite:///{VAR_DIR / 'numecrivain.db'}",
                              env="NUMECRIVAIN_DB_URL")
    rasa_api_token: str = Field(default_factory=lambda: local_secret("RASA_API_TOKEN"), env="RASA_API_TOKEN")
    internal_token: str = Field(default_factory=lambda: local_secret("NUMECRIVAIN_INTERNAL_TOKEN"),
                                env="NUMECRIVAIN_INTERNAL_TOKEN")
    # Rasa puts it in the Authorization header of every action call (endpoints.yml); the action server checks it.
    actions_token: str = Field(default_factory=lambda: local_secret("NUMECRIVAIN_ACTIONS_TOKEN"),
                               env="NUMECRIVAIN_ACTIONS_TOKEN")
    redis_url: str | None = Field(default=None, env="NUMECRIVAIN_REDIS_URL")  # production: pushes shared by Redis
    # Behind a proxy, the Rasa process reaches a portal through it rather than through WEB_URL.
    portal_internal_url: str | None = Field(default=None, env="NUMECRIVAIN_PORTAL_INTERNAL_URL")


def get_settings() -> Settings:
    """Settings read from the environment now (cheap; call where needed)."""
    return Settings()


class ListenSettings(EnvironmentSettings):
    """Where the Rasa and action servers listen (no secret in it: cheap to read anywhere)."""

    rasa_port: int = Field(default=5005, env="RASA_PORT")
    rasa_interface: str = Field(default="127.0.0.1", env="RASA_INTERFACE")
    actions_port: int = Field(default=5055, env="ACTIONS_PORT")
    # 127.0.0.1 unless Rasa runs on another machine or container.
    actions_host: str = Field(default="127.0.0.1", env="ACTIONS_HOST")
    log_level: str = Field(default="INFO", env="LOG_LEVEL")


class TrackerSettings(EnvironmentSettings):
    """Rasa's tracker store as endpoints.yml builds it from TRACKER_*, and the store's cache of trackers."""

    store_url: str | None = Field(default=None, env="TRACKER_STORE_URL")
    dialect: str = Field(default="sqlite", env="TRACKER_DIALECT")
    database: str | None = Field(default=None, env="TRACKER_DB")  # None: var/tracker.db
    host: str = Field(default="localhost", env="TRACKER_HOST")
    port: int | None = Field(default=None, env="TRACKER_PORT")
    user: str | None = Field(default=None, env="TRACKER_USER")
    password: str | None = Field(default=None, env="TRACKER_PASSWORD")
    # A conversation's next turn comes within a minute or two; a few hundred trackers are a few tens of MiB.
    cache_size: int = Field(default=256, ge=0, env="NUMECRIVAIN_TRACKER_CACHE")
    cache_seconds: float = Field(default=300.0, ge=0, env="NUMECRIVAIN_TRACKER_CACHE_SECONDS")
    lock_file: Path | None = Field(default=None, env="NUMECRIVAIN_LOCK_DB")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the tracker store (TRACKER_STORE_URL when set)."""
        if self.store_url:
            return self.store_url
        database = self.database or "var/tracker.db"
        if self.dialect == "sqlite":
            path = database if os.path.isabs(database) else str(PROJECT_ROOT / database)
            return f"sqlite:///{path}"
        return URL.create(self.dialect, username=self.user, password=self.password, host=self.host,
                          port=self.port, database=database).render_as_string(hide_password=False)

    @property
    def lock_db(self) -> Path:
        """The SQLite lock store: NUMECRIVAIN_LOCK_DB, else next to a SQLite TRACKER_DB, else var/locks.db."""
        if self.lock_file:
            return self.lock_file
        if self.database and self.dialect == "sqlite":
            tracker = Path(self.database)
            return tracker.with_name(f"{tracker.stem}-locks.db")
        return VAR_DIR / "locks.db"


class RasaProcessSettings(EnvironmentSettings):
    """What only the Rasa process reads: its speed-ups, the action timeout, the REST channel's pace."""

    speedups: bool = Field(default=True, env="NUMECRIVAIN_RASA_SPEEDUPS")
    skip_tensorflow: bool = Field(default=True, env="NUMECRIVAIN_SKIP_TENSORFLOW")
    past_states_walk: bool = Field(default=True, env="NUMECRIVAIN_PAST_STATES_WALK")
    action_timeout_seconds: float = Field(default=20.0, gt=0, env="NUMECRIVAIN_ACTION_TIMEOUT_SECONDS")
    # Only a load test (make bench) holding 100-turn conversations raises it.
    rest_messages_per_minute: int = Field(default=20, gt=0, env="NUMECRIVAIN_REST_MESSAGES_PER_MINUTE")
    # Signs the web chat's session ids; else a key derived from the internal token.
    session_secret: str | None = Field(default=None, env="NUMECRIVAIN_SESSION_SECRET")
