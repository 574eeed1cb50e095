"""One way to read the environment: blanks mean the default, a bad value names its variable, keywords win."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.channels.sms.config import SmsSettings
from bot.handoff.config import HandoffConfig
from bot.launcher import start_up_problem
from bot.privacy.retention import RetentionPolicy
from bot.settings import Settings, TrackerSettings

STRONG = "s" * 43


def test_a_blank_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WAIT_MINUTES", "  ")
    monkeypatch.setenv("WEB_PORT", "")
    assert HandoffConfig().wait_timeout_minutes == 15
    assert Settings(rasa_api_token="t", internal_token="i", actions_token="a").web_port == 8080


def test_a_value_that_does_not_fit_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR", "dix")
    with pytest.raises(ValidationError, match="NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR"):
        HandoffConfig()
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR", "0")
    with pytest.raises(ValidationError, match="NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR"):
        HandoffConfig()


def test_keywords_win_over_the_environment_and_values_are_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", " 24/7 ")
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WAIT_MINUTES", "30")
    config = HandoffConfig(wait_timeout_minutes=5)
    assert (config.service_hours, config.wait_timeout_minutes) == ("24/7", 5)


def test_a_given_environment_is_read_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a child process will read: nothing leaks in from this process's own variables."""
    monkeypatch.setenv("SMS_FAKE_GATEWAY", "1")
    assert SmsSettings().fake_gateway
    assert not SmsSettings.from_environ({}).fake_gateway
    assert TrackerSettings.from_environ({"TRACKER_DIALECT": "postgresql", "TRACKER_DB": "bot", "TRACKER_PORT": "5433",
                                         "TRACKER_USER": "u", "TRACKER_PASSWORD": "p"}).url == \
        "postgresql://u:p@localhost:5433/bot"


def test_settings_cannot_be_changed_once_read() -> None:
    config = HandoffConfig()
    with pytest.raises(TypeError):
        config.target = "elsewhere"


def test_retention_falls_back_to_its_default_rather_than_stop_the_purge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMECRIVAIN_RETENTION_CALLBACK_DAYS", "sept")
    assert RetentionPolicy().callback_days == 7


def test_the_start_stops_on_a_setting_that_does_not_fit() -> None:
    env = {"RASA_API_TOKEN": STRONG, "NUMECRIVAIN_ACTIONS_TOKEN": STRONG + "a",
           "NUMECRIVAIN_INTERNAL_TOKEN": STRONG + "b"}
    assert start_up_problem(env) is None
    problem = start_up_problem({**env, "SMS_MAX_SEGMENTS": "deux"})
    assert problem is not None and "SMS_MAX_SEGMENTS" in problem
