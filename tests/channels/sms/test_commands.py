"""SMS words handled before NLU."""

from __future__ import annotations

import pytest

from bot.channels.sms.commands import Command, is_stop, menu_number, parse_command, resolve_menu_choice

MENU = {"1": "/procedure_identity_card", "2": "/procedure_passport", "0": "/request_human"}


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop !", " ARRET ", "ARRÊT", "arrêt.", "Arret", "STOP SMS"])
def test_stop_words_unsubscribe(text: str) -> None:
    assert parse_command(text) is Command.STOP
    assert is_stop(text)


@pytest.mark.parametrize("text", ["stop le vol de ma carte", "arrêt de travail", "je veux arreter de fumer"])
def test_sentences_containing_stop_are_questions(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize(("text", "command"), [
    ("START", Command.START), ("start", Command.START), ("AIDE", Command.MENU), ("Menu", Command.MENU),
    ("aide !", Command.MENU), ("PLUS", Command.MORE), ("plus", Command.MORE), ("0", Command.HUMAN),
    (" 0 ", Command.HUMAN),
])
def test_commands_are_recognised(text: str, command: Command) -> None:
    assert parse_command(text) is command


@pytest.mark.parametrize(("text", "payload"), [
    ("1", "/procedure_identity_card"), ("2.", "/procedure_passport"), (" 0", "/request_human"), ("7", None),
    ("1 2", None), ("un", None),
])
def test_numbers_map_back_to_the_last_menu(text: str, payload: str | None) -> None:
    assert resolve_menu_choice(text, MENU) == payload


def test_zero_reaches_a_person_even_without_menu() -> None:
    assert resolve_menu_choice("0", {}) == "/request_human"


def test_menu_number_ignores_text() -> None:
    assert menu_number("12") == "12"
    assert menu_number("1er") is None
