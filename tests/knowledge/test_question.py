"""Reading what a question asks (price, documents, delay...) and tells (age, child, loss, theft), SMS spelling too."""

from __future__ import annotations

import pytest

from bot.knowledge.question import Question, read_question, remembered_question, told_slot_values, with_remembered


@pytest.mark.parametrize(("text", "aspect"), [
    ("combien coute un passeport", "cost"),
    ("Combien COÛTE une carte d'identité ?", "cost"),
    ("cb coute le passeport", "cost"),
    ("c'est payant la carte grise ?", "cost"),
    ("quel est le prix du timbre", "cost"),
    ("délai pour un passeport", "delay"),
    ("combien de temps pour la carte vitale", "delay"),
    ("cb de temps pour avoir ma cni", "delay"),  # "cb de temps" is a delay, not a price
    ("quels papiers pour un passeport", "documents"),
    ("et les documents ?", "documents"),
    ("qu'est-ce qu'il faut apporter", "documents"),
    ("où aller pour la carte grise", "where"),
    ("ou faire ma demande de rsa", "where"),
    ("je n'ai pas internet pour déclarer", "offline"),
    ("declarer mes impots sans internet", "offline"),
    ("comment faire pour le rsa", "steps"),
    ("passeport", None),
    ("j'ai un vol pour Alger", None),
])
def test_aspect_asked_is_read(text: str, aspect: str | None) -> None:
    assert read_question(text).aspect == aspect


@pytest.mark.parametrize(("text", "age", "minor"), [
    ("combien coute un passeport pour mon fils de 12 ans", 12, True),
    ("ma fille a 16 ans", 16, True),
    ("jai 17 ans", 17, True),
    ("passeport pour ma mère de 70 ans", 70, False),
    ("bébé de 8 mois", 0, True),
    ("pour un enfant", None, True),
    ("pour un adulte", None, False),
    ("passeport perdu il y a 2 ans", None, None),  # a time, not an age
    ("enfant de moins de 15 ans", None, True),  # a bound, not the age
    ("passeport", None, None),
])
def test_age_and_child_are_read(text: str, age: int | None, minor: bool | None) -> None:
    question = read_question(text)
    assert (question.age, question.minor) == (age, minor)


@pytest.mark.parametrize(("text", "told"), [
    ("jai perdu ma carte didentité", "lost"),
    ("J'AI ÉGARÉ mon passeport", "lost"),
    ("on m'a vole ma cni", "stolen"),
    ("on m'a volé mon sac avec mes papiers", "stolen"),
    ("que faire en cas de vol", "stolen"),
    ("j'ai un vol pour Alger demain", None),
    ("carte d'identité", None),
])
def test_loss_and_theft_are_read(text: str, told: str | None) -> None:
    assert read_question(text).lost_or_stolen == told


def test_offline_and_online_are_told_apart() -> None:
    assert read_question("sans internet").offline and not read_question("sans internet").online
    assert read_question("faire la demande en ligne").online


def test_only_the_first_characters_are_read() -> None:
    assert read_question("x " * 600 + "combien pour mon fils de 12 ans") == Question()
    near_misses = "de 1 " * 90 + "de 3 ans"  # many near-matches before the age: found all the same
    assert read_question(near_misses).age == 3


def test_empty_question_tells_nothing() -> None:
    assert read_question("") == Question() and read_question(None) == Question()


def test_remembered_facts_fill_what_the_message_does_not_say() -> None:
    later = with_remembered(read_question("et ça coûte combien ?"), age=12.0, minor=True, lost_or_stolen="lost")
    assert (later.aspect, later.age, later.minor, later.lost_or_stolen) == ("cost", 12, True, "lost")
    said = with_remembered(read_question("pour ma fille de 16 ans"), age=12.0, lost_or_stolen="nonsense")
    assert (said.age, said.lost_or_stolen) == (16, None)  # the message wins; an unknown value is ignored


def test_remembered_question_completes_with_earlier_slots_and_keeps_loss_to_its_procedure() -> None:
    slots = {"person_age": 12.0, "person_minor": True, "lost_or_stolen": "lost", "last_procedure": "cni"}
    same = remembered_question("combien ça coûte", slots.get, "cni")
    assert (same.age, same.minor, same.lost_or_stolen) == (12, True, "lost")
    other = remembered_question("combien ça coûte", slots.get, "passport")
    assert (other.age, other.lost_or_stolen) == (12, None)
    told = remembered_question("pour moi, j'ai 40 ans", slots.get, "cni")
    assert (told.age, told.minor) == (40, False)


def test_told_slot_values_sets_only_what_the_message_says() -> None:
    assert told_slot_values(read_question("combien coûte un passeport")) == {}
    values = told_slot_values(read_question("passeport pour mon fils de 12 ans, il a été volé"))
    assert values["person_age"] == 12.0 and values["person_minor"] is True
    assert values["lost_or_stolen"] == "stolen"
