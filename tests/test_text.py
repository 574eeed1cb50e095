"""Text folding: one implementation for every matcher (and the NLU classifier's features)."""

from __future__ import annotations

from bot.nlu import linear_classifier
from bot.text import fold, plain_words, straight_apostrophes, strip_accents


def test_fold_spells_out_ligatures_and_drops_accents_and_case() -> None:
    assert fold("Écrit ŒUVRE à Marcq-en-Barœul, Straße") == "ecrit oeuvre a marcq-en-baroeul, strasse"


def test_strip_accents_keeps_the_case() -> None:
    assert strip_accents("Œuvre Élysée") == "OEuvre Elysee"


def test_plain_words_keep_letters_and_digits_only() -> None:
    assert plain_words("  L’aide, à 16 ans ! ") == "l aide a 16 ans"
    assert plain_words("cœur") == "coeur"


def test_typographic_apostrophes_become_the_keyboard_one() -> None:
    assert straight_apostrophes("Villeneuve-d’Ascq lʼami") == "Villeneuve-d'Ascq l'ami"


def test_the_classifier_folds_with_the_same_function() -> None:
    """The trained model's features depend on it: a second copy could drift."""
    assert linear_classifier.fold is fold
