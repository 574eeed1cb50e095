"""Agent accounts and sessions: scrypt hashes, the CLI, forged and stale sessions."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from bot.handoff.accounts import AccountError, AgentDirectory, hash_password, verify_password
from bot.handoff.sessions import SessionStore
from bot.paths import PROJECT_ROOT
from tests.handoff.helpers import FIXED_NOW, sqlite_engine

PASSWORD = "correct horse battery"


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("mauvais mot de passe", first)
    assert not verify_password(PASSWORD, "garbage")


def test_short_password_and_duplicate_name_are_refused(tmp_path):
    directory = AgentDirectory(sqlite_engine(tmp_path))
    with pytest.raises(AccountError):
        directory.create("alice", "court")
    directory.create("alice", PASSWORD)
    with pytest.raises(AccountError):
        directory.create("alice", PASSWORD)
    assert directory.authenticate("alice", PASSWORD) is not None
    assert directory.authenticate("alice", "pas le bon") is None
    assert directory.authenticate("personne", PASSWORD) is None


def test_cli_creates_an_account_that_can_log_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.handoff.accounts", "create", "agent.cli"], input=PASSWORD + "\n",
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={"NUMECRIVAIN_DB_URL": url, "PATH": "/usr/bin"},
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert AgentDirectory(sqlite_engine(tmp_path, "cli.db")).authenticate("agent.cli", PASSWORD) is not None


def test_forged_idle_too_old_and_disabled_sessions_do_not_resolve(tmp_path):
    engine = sqlite_engine(tmp_path)
    directory = AgentDirectory(engine)
    agent = directory.create("alice", PASSWORD)
    sessions = SessionStore(engine, max_hours=10, idle_minutes=60)
    token = sessions.create(agent, now=FIXED_NOW)
    assert sessions.resolve("forged", now=FIXED_NOW) is None
    assert sessions.resolve(token, now=FIXED_NOW + timedelta(minutes=30)).agent.name == "alice"
    assert sessions.resolve(token, now=FIXED_NOW + timedelta(minutes=95)) is None  # idle for 65 min
    token = sessions.create(agent, now=FIXED_NOW)
    for hour in range(1, 10):
        assert sessions.resolve(token, now=FIXED_NOW + timedelta(minutes=50 * hour)) is not None
    assert sessions.resolve(token, now=FIXED_NOW + timedelta(hours=10, minutes=5)) is None  # too old
    token = sessions.create(agent, now=FIXED_NOW)
    directory.disable("alice")
    assert sessions.resolve(token, now=FIXED_NOW) is None


def test_session_csrf_token_must_match():
    from bot.handoff.accounts import Agent
    from bot.handoff.sessions import AgentSession

    session = AgentSession(Agent(1, "alice", True, None), "expected-token")
    assert session.csrf_matches("expected-token")
    assert not session.csrf_matches("other") and not session.csrf_matches(None)
