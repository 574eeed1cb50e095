"""Agent accounts and sessions: scrypt hashes, the CLI, forged and stale sessions."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from bot.handoff.accounts import AccountError, AgentDirectory, hash_password, verify_password
from bot.handoff.sessions import SessionStore
from bot.paths import PROJECT_ROOT
from tests.handoff.helpers import FIXED_NOW, agent_named, sqlite_engine

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
    session = sessions.resolve(token, now=FIXED_NOW + timedelta(minutes=30))
    assert session is not None and session.agent.name == "alice"
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


def test_cli_sets_the_display_name_users_read(tmp_path):
    env = {"NUMECRIVAIN_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.handoff.accounts", *args], input=PASSWORD + "\n",
                              capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120, check=False)

    created = cli("create", "karim.benali", "--display-name", "Karim B.")
    assert created.returncode == 0 and "« Karim B. »" in created.stdout
    assert cli("create", "claire.dupont").stdout.strip().endswith("« Claire ».")
    assert cli("display-name", "claire.dupont", "Claire D.").returncode == 0
    refused = cli("display-name", "claire.dupont", "<script>")
    assert refused.returncode == 1 and "nom affiché" in refused.stderr
    directory = AgentDirectory(sqlite_engine(tmp_path, "cli.db"))
    names = [agent_named(directory, n).public_name for n in ("karim.benali", "claire.dupont")]
    assert names == ["Karim B.", "Claire D."]


def test_cli_gives_an_account_the_agent_or_admin_role(tmp_path):
    env = {"NUMECRIVAIN_DB_URL": f"sqlite:///{tmp_path / 'roles.db'}", "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.handoff.accounts", *args], input=PASSWORD + "\n",
                              capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120, check=False)

    assert "(admin)" in cli("create", "nadia.admin", "--role", "admin").stdout
    assert "(agent)" in cli("create", "paul.agent").stdout
    assert cli("role", "paul.agent", "chef").returncode != 0
    assert cli("role", "paul.agent", "admin").returncode == 0
    directory = AgentDirectory(sqlite_engine(tmp_path, "roles.db"))
    assert [agent_named(directory, n).role for n in ("nadia.admin", "paul.agent")] == ["admin", "admin"]


def test_accounts_made_before_display_names_get_their_first_name(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the table as the first version created it
        old.execute("CREATE TABLE handoff_agents (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, "
                    "password_hash VARCHAR(255) NOT NULL, created_at DATETIME NOT NULL, disabled BOOLEAN NOT NULL, "
                    "available BOOLEAN NOT NULL, last_seen_at DATETIME)")
        old.execute("INSERT INTO handoff_agents VALUES (1, 'marie-lou.petit', ?, '2024-01-01 09:00:00.000000', "
                    "0, 0, NULL)", (hash_password(PASSWORD),))
    from bot.db import make_engine

    directory = AgentDirectory(make_engine(f"sqlite:///{path}"))
    agent = directory.authenticate("marie-lou.petit", PASSWORD)
    assert agent is not None and agent.public_name == "Marie-Lou"
