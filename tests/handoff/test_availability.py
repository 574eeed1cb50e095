"""Service hours and presence decide, honestly, whether a request can be queued."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.handoff.accounts import AgentDirectory
from bot.handoff.availability import CLOSED_HOURS, NOBODY, OPEN, check_availability, describe_opening
from bot.handoff.config import HandoffConfig
from tests.handoff.helpers import sqlite_engine

CONFIG = HandoffConfig(service_hours="Mo-Fr 09:00-17:00; PH off", timezone="Europe/Paris", presence_minutes=5)
MONDAY_MORNING = datetime(2024, 3, 11, 9, 30, tzinfo=timezone.utc)  # 10:30 in Lille
SATURDAY = datetime(2024, 3, 16, 14, 0, tzinfo=timezone.utc)
MAY_DAY = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)  # a Wednesday, public holiday


def directory_with_alice(tmp_path, seen: datetime, available: bool = True) -> AgentDirectory:
    directory = AgentDirectory(sqlite_engine(tmp_path))
    agent = directory.create("alice", "correct horse battery")
    directory.set_available(agent.id, available, now=seen.replace(tzinfo=None))
    return directory


def test_open_when_in_hours_and_an_agent_is_present(tmp_path):
    directory = directory_with_alice(tmp_path, MONDAY_MORNING - timedelta(minutes=1))
    assert check_availability(CONFIG, directory, MONDAY_MORNING).state == OPEN


def test_nobody_when_the_only_agent_was_last_seen_too_long_ago(tmp_path):
    directory = directory_with_alice(tmp_path, MONDAY_MORNING - timedelta(minutes=6))
    assert check_availability(CONFIG, directory, MONDAY_MORNING).state == NOBODY


def test_nobody_when_the_agent_said_they_are_not_available(tmp_path):
    directory = directory_with_alice(tmp_path, MONDAY_MORNING, available=False)
    assert check_availability(CONFIG, directory, MONDAY_MORNING).state == NOBODY


def test_closed_on_saturday_with_the_next_opening_on_monday_morning(tmp_path):
    directory = directory_with_alice(tmp_path, SATURDAY)
    availability = check_availability(CONFIG, directory, SATURDAY)
    assert availability.state == CLOSED_HOURS
    assert availability.next_opening is not None
    assert (availability.next_opening.weekday(), availability.next_opening.hour) == (0, 9)
    local_now = SATURDAY.astimezone(availability.next_opening.tzinfo)
    assert describe_opening(availability.next_opening, local_now) == "lundi à 9 h"


def test_closed_on_a_public_holiday(tmp_path):
    directory = directory_with_alice(tmp_path, MAY_DAY)
    assert check_availability(CONFIG, directory, MAY_DAY).state == CLOSED_HOURS


def test_opening_is_described_in_plain_words():
    now = datetime(2024, 3, 11, 8, 0)
    assert describe_opening(datetime(2024, 3, 11, 14, 0), now) == "aujourd'hui à 14 h"
    assert describe_opening(datetime(2024, 3, 12, 9, 30), now) == "demain à 9 h 30"
