"""Callback numbers: French numbers only, stored until done, then deleted."""

from __future__ import annotations

import pytest

from bot.handoff.callbacks import CallbackBook, InvalidPhoneNumberError, masked, normalise_french_phone
from tests.handoff.helpers import sqlite_engine


@pytest.mark.parametrize("text", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "03.20.12.34.56"])
def test_french_numbers_are_accepted_in_e164(text):
    assert normalise_french_phone(text).startswith("+33")


@pytest.mark.parametrize("text", ["", "12", "bonjour", "08 99 12 34 56", "+44 20 7946 0958", "3939", "0" * 50])
def test_unusable_numbers_are_refused(text):
    with pytest.raises(InvalidPhoneNumberError) as error:
        normalise_french_phone(text)
    assert text not in str(error.value) or not text


def test_only_the_last_two_digits_are_shown():
    assert masked("+33612345678") == "•• •• •• •• 78"


def test_done_callback_deletes_the_number(tmp_path):
    book = CallbackBook(sqlite_engine(tmp_path))
    callback = book.add("06 12 34 56 78", "webchat", "Lille", "procedure_passport")
    assert [c.phone for c in book.pending()] == ["+33612345678"]
    assert book.done(callback.id) and not book.done(callback.id)
    assert book.pending() == []
