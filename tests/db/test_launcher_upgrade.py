"""`make run` migrates the project database once, before it starts any service."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import db, launcher


class StopAtFirstStart:
    """A supervisor that records the database revision when the first service would start, then stops."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.revision_at_start: str | None = "not started"

    def start(self, _name: str, _command: list[str], _env: dict[str, str]) -> None:
        self.revision_at_start = db.current_revision(db.make_engine(self.url))
        raise KeyboardInterrupt

    def check(self) -> None:
        """Never reached: the first start stops the run."""

    def stop(self) -> None:
        """Nothing was started."""


@pytest.fixture
def launch_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Strong secrets; the signal handlers the launcher installs are given back to pytest afterwards."""
    for name in ("RASA_API_TOKEN", "NUMECRIVAIN_ACTIONS_TOKEN", "NUMECRIVAIN_INTERNAL_TOKEN"):
        monkeypatch.setenv(name, secrets.token_urlsafe(32))
    monkeypatch.delenv("SMS_FAKE_GATEWAY", raising=False)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("launch_env")
def test_the_database_is_at_the_latest_revision_before_the_first_service_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    supervisor = StopAtFirstStart(url)
    monkeypatch.setattr(launcher.Supervisor, "from_environment", classmethod(lambda cls: supervisor))
    assert launcher.main([]) == 0
    assert supervisor.revision_at_start == db.head_revision()


@pytest.mark.usefixtures("launch_env")
def test_an_unreachable_database_stops_the_start_with_a_clear_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", "postgresql://numecrivain:secret-pw@127.0.0.1:1/numecrivain")
    supervisor = StopAtFirstStart("unused")
    monkeypatch.setattr(launcher.Supervisor, "from_environment", classmethod(lambda cls: supervisor))
    assert launcher.main([]) == 1
    assert supervisor.revision_at_start == "not started"
    error = capsys.readouterr().err
    assert "could not be migrated" in error and "secret-pw" not in error
