"""Phone numbers become keyed, irreversible conversation keys."""

from __future__ import annotations

from bot.channels.sms.pseudonym import is_sms_sender, normalise_number, pseudonymise

PEPPER = "pepper-for-tests"


def test_same_number_in_any_format_gives_one_conversation() -> None:
    keys = {pseudonymise(raw, PEPPER) for raw in ("+33639980001", "06 39 98 00 01", "0639980001", "0033639980001")}
    assert len(keys) == 1


def test_different_numbers_give_different_conversations() -> None:
    assert pseudonymise("+33639980001", PEPPER) != pseudonymise("+33639980002", PEPPER)


def test_pseudonym_depends_on_the_secret_pepper() -> None:
    assert pseudonymise("+33639980001", PEPPER) != pseudonymise("+33639980001", "another")


def test_pseudonym_does_not_contain_the_number() -> None:
    key = pseudonymise("+33639980001", PEPPER)
    assert is_sms_sender(key)
    assert "639980001" not in key and "0639980001" not in key


def test_numbers_are_normalised_to_e164() -> None:
    assert normalise_number("06 39 98 00 01") == "+33639980001"
    assert normalise_number("+32 470 12 34 56") == "+32470123456"
