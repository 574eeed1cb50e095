"""The bot over real HTTP: procedure answers, bad input and the offer of a person on every turn."""

from __future__ import annotations

import pytest

from tests.e2e.rest import all_text, new_sender, offers_a_person, say
from tests.knowledge.samples import shipped_procedure

pytestmark = pytest.mark.stack


def test_lost_identity_card_gets_the_official_answer(stack) -> None:
    messages = say(stack.rest_url, new_sender(), "jai perdu ma carte d'identité")
    text = all_text(messages)
    procedure = shipped_procedure("identity_card")
    assert procedure.title in text
    assert procedure.main_link.url in text  # the official source, linked in the first answer
    assert "Sans Internet" in [b.get("title") for m in messages for b in m.get("buttons") or []]
    assert offers_a_person(messages)


@pytest.mark.parametrize(
    ("message", "expected_title"),
    [
        ("comment je fais pour avoir les apl", "housing_aid"),
        ("g oublié mon mot de passe impots.gouv", "tax_account"),
        ("kan passe le camion poubelle", "household_waste"),
        ("je voudrais un passeport pour ma fille", "passport"),
    ],
)
def test_everyday_wording_reaches_the_right_procedure(stack, message: str, expected_title: str) -> None:
    messages = say(stack.rest_url, new_sender(), message)
    assert shipped_procedure(expected_title).title in all_text(messages)
    assert offers_a_person(messages)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "a" * 10_000,
        "je " * 3_000 + "voudrais une carte grise",
        "😀😀😀",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "What is the weather like in London tomorrow?",
        "¿Dónde está el ayuntamiento?",
        "{\"intent\": \"x\"}",
        "/request_human{\"x\": ",
        "\x00\x01\x02",
    ],
)
def test_bad_input_gets_a_kind_answer_and_a_person(stack, message: str) -> None:
    messages = say(stack.rest_url, new_sender(), message)
    assert messages, "the bot must always answer something"
    assert offers_a_person(messages)
    assert "<script>" not in all_text(messages) and "onerror" not in all_text(messages)


def test_every_turn_of_a_conversation_offers_a_person(stack) -> None:
    sender = new_sender()
    for message in ["bonjour", "menu", "vous êtes un robot ?", "quel temps fait-il", "carte grise", "merci",
                    "blablabla zzz", "qsdfqsdf mlkj", "au revoir"]:
        messages = say(stack.rest_url, sender, message)
        assert messages and offers_a_person(messages), message


def test_two_misunderstandings_in_a_row_lead_to_a_person(stack) -> None:
    sender = new_sender()
    say(stack.rest_url, sender, "bonjour")
    first = all_text(say(stack.rest_url, sender, "xkcd qwv zzzt"))
    second = say(stack.rest_url, sender, "plomp vrrrz kkk")
    assert "autrement" in first
    assert "autrement" not in all_text(second) and offers_a_person(second)


def test_a_commune_the_model_is_unsure_of_still_finds_places(stack) -> None:
    sender = new_sender()
    text = all_text(say(stack.rest_url, sender, "jsuis a st andré"))
    assert "Saint-André-lez-Lille" in text
    follow_up = say(stack.rest_url, sender, "ouvert samedi")
    assert "Une personne va prendre le relais" not in all_text(follow_up)
    assert offers_a_person(follow_up)


def test_a_phone_number_typed_to_the_bot_is_not_kept_in_the_history(stack) -> None:
    import sqlite3

    sender = new_sender()
    assert offers_a_person(say(stack.rest_url, sender, "mon numéro c'est le 06 12 34 56 78, rappelez moi"))
    rows = sqlite3.connect(stack.tracker_db).execute("SELECT data FROM events WHERE sender_id = ?",
                                                     (f"rest:{sender}",))  # REST conversations have their own ids
    stored = " ".join(row[0] for row in rows)
    assert "rappelez" in stored, "the message itself is kept"
    assert "12 34 56 78" not in stored
