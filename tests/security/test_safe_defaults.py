"""Safe defaults that need no running stack: private secrets, quiet database errors, no fake SMS by accident,
and a dependency audit whose accepted vulnerabilities are each explained."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

import bot.settings
from bot.channels.sms.channel import default_senders
from bot.channels.sms.config import SmsConfig, android_api_url, uses_fake_gateway
from bot.db import make_engine
from bot.launcher import Ports, commands
from bot.paths import PROJECT_ROOT
from bot.service_auth import WeakSecretError
from devtools.audit import IGNORE_FILE, accepted_vulnerabilities, read_report

PHONE = "+33612345678"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_secret_is_0600_inside_a_0700_var_even_with_a_lax_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    monkeypatch.setattr(bot.settings, "VAR_DIR", var)
    monkeypatch.delenv("NUMECRIVAIN_TEST_SECRET", raising=False)
    previous = os.umask(0)
    try:
        secret = bot.settings.local_secret("NUMECRIVAIN_TEST_SECRET")
    finally:
        os.umask(previous)
    assert len(secret) >= 32
    assert mode(var) == 0o700
    assert mode(var / ".numecrivain_test_secret") == 0o600
    assert bot.settings.local_secret("NUMECRIVAIN_TEST_SECRET") == secret


def test_secret_left_readable_by_others_is_made_private_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    leaked = var / ".numecrivain_test_secret"
    leaked.write_text("old-secret")
    leaked.chmod(0o644)
    monkeypatch.setattr(bot.settings, "VAR_DIR", var)
    monkeypatch.delenv("NUMECRIVAIN_TEST_SECRET", raising=False)
    assert bot.settings.local_secret("NUMECRIVAIN_TEST_SECRET") == "old-secret"
    assert mode(var) == 0o700 and mode(leaked) == 0o600


@pytest.mark.parametrize("module,variable", [("bot.rasa_server", "RASA_API_TOKEN"),
                                             ("bot.action_server", "NUMECRIVAIN_ACTIONS_TOKEN"),
                                             ("bot.launcher", "NUMECRIVAIN_INTERNAL_TOKEN")])
def test_service_refuses_to_start_with_a_short_secret(module: str, variable: str) -> None:
    port_option = "--web-port" if module == "bot.launcher" else "--port"
    strong = "s" * 43
    env = {**os.environ, "RASA_API_TOKEN": strong, "NUMECRIVAIN_ACTIONS_TOKEN": strong,
           "NUMECRIVAIN_INTERNAL_TOKEN": strong, variable: "short-secret"}
    started = subprocess.run([sys.executable, "-m", module, port_option, "1"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert started.returncode != 0
    assert f"{variable} must be at least 32 characters" in started.stderr
    assert "short-secret" not in started.stderr


def test_action_app_cannot_be_built_without_a_strong_secret() -> None:
    from bot.action_server import create_action_app

    with pytest.raises(WeakSecretError):
        create_action_app("")


def test_database_error_does_not_carry_the_phone_number(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    contacts = Table("contacts", MetaData(), Column("id", Integer, primary_key=True), Column("phone", String))
    contacts.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(contacts).values(id=1, phone=PHONE))
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        connection.execute(insert(contacts).values(id=1, phone=PHONE))
    assert "UNIQUE" in str(raised.value)
    assert PHONE not in str(raised.value)


def test_every_engine_the_code_builds_hides_its_parameters() -> None:
    calls = []
    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\bcreate_engine\((?:[^()]|\([^()]*\))*\)", source):
            calls.append((path.relative_to(PROJECT_ROOT), "hide_parameters=True" in match.group(0)))
    assert len(calls) >= 3
    assert [call for call in calls if not call[1]] == []
    tracker_store = (PROJECT_ROOT / "bot" / "tracker_store.py").read_text(encoding="utf-8")
    assert "self.engine.hide_parameters = True" in tracker_store  # Rasa builds that engine itself


def test_fake_sms_gateway_only_when_asked_for_explicitly() -> None:
    model = Path("models/numecrivain.tar.gz")
    assert not uses_fake_gateway({})
    assert "sms-gateway" not in commands(Ports(), model, {})
    assert android_api_url({}) == ""
    started = commands(Ports(sms_gateway=9191), model, {"SMS_FAKE_GATEWAY": "1"})["sms-gateway"]
    assert started[-3:] == ["devtools.fake_sms_gateway", "--port", "9191"]
    assert android_api_url({"SMS_FAKE_GATEWAY": "1", "SMS_FAKE_GATEWAY_PORT": "9191"}) == "http://localhost:9191"
    assert android_api_url({"SMS_FAKE_GATEWAY": "1", "SMS_GATEWAY_URL": "https://sms.example/"}) == \
        "https://sms.example"


def test_server_without_gateway_says_loudly_that_no_sms_will_be_sent(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("SMS_GATEWAY_URL", "SMS_FAKE_GATEWAY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                 "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMS_WEBHOOK_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("NUMECRIVAIN_SMS_PEPPER", "p" * 32)
    with caplog.at_level(logging.ERROR):
        senders = default_senders(SmsConfig.load({}))
    assert senders == {}
    assert "SMS sending is OFF" in caplog.text and "SMS_FAKE_GATEWAY=1" in caplog.text


def test_runtime_services_never_import_the_dev_tools() -> None:
    assert not (PROJECT_ROOT / "bot" / "channels" / "sms" / "fake_gateway.py").exists()
    probe = ("import sys, bot.launcher, bot.action_server, bot.rasa_server, bot.web.app, bot.channels.sms.channel;"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'devtools'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_audit_fails_on_a_vulnerability_nobody_accepted() -> None:
    report = {"dependencies": [
        {"name": "werkzeug", "version": "3.0.0", "vulns": [
            {"id": "PYSEC-2023-221", "aliases": ["CVE-2023-46136"], "fix_versions": ["3.0.1"]}]},
        {"name": "sanic", "version": "21.12.2", "vulns": [
            {"id": "GHSA-new-0000-0000", "aliases": [], "fix_versions": []}]},
        {"name": "pillow", "version": "12.3.0", "vulns": []},
        {"name": "private-package", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]}
    result = read_report(report, accepted_vulnerabilities())
    assert [f.id for f in result.unaccepted] == ["GHSA-new-0000-0000"]
    assert result.audited == 3 and result.unaudited == ["private-package"]


def test_each_accepted_vulnerability_is_explained_in_docs_security() -> None:
    doc = (PROJECT_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    accepted = accepted_vulnerabilities(IGNORE_FILE)
    assert accepted
    for entry in accepted.values():
        assert entry["id"] in doc
        assert len(entry["reason"]) > 80
