"""What a question about a procedure asks (price, documents, delay...) and what it tells (age, loss, theft).

Small deterministic readers on normalised text (no accents, lower case, SMS spelling tolerated), so the answer
can start with the asked detail. Every pattern is a plain alternation without nested repetition: linear time,
and the text is cut to MAX_QUESTION_CHARS first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.knowledge.cases import MAX_QUESTION_CHARS, normalise

# What a question can ask for, in the order the answer prefers when several are asked.
ASPECTS = ("cost", "delay", "documents", "where", "offline", "steps")

_ASPECT_PATTERNS: dict[str, re.Pattern[str]] = {
    "cost": re.compile(
        r"\b(prix|tarifs?|couts?|coute|coutent|couter|payer|payant|payante|gratuit|gratuite|gratos|timbres?|"
        r"combien(?! de (temps|jours?|semaines?|mois))|cb(?! de (temps|jours?|semaines?|mois))|cher|euros?)\b"
    ),
    "delay": re.compile(
        r"\b(delais?|duree|attente|attendre|longtemps|(combien|cb) de (temps|jours?|semaines?|mois)|"
        r"prend (du|combien de) temps|quand (est ce que )?(je|j|on) (vais|va|l|la|le)|rapidement|urgent|urgence)\b"
    ),
    "documents": re.compile(
        r"\b(documents?|justificatifs?|pieces? (a fournir|justificatives?)|a (apporter|fournir|prendre)|"
        r"(quels?|quelles?|quoi comme|faut il|besoin de|liste des?) (papiers?|pieces?)|apporter|fournir|dossier)\b"
    ),
    "where": re.compile(
        r"\b(ou (aller|faire|demander|deposer|se rendre|s adresser|le faire|la faire|le demander|la demander|"
        r"je (dois|peux|vais) (aller|faire|demander))|a qui|quelle mairie|quel (bureau|guichet|endroit|lieu)|"
        r"quelle adresse)\b"
    ),
    "offline": re.compile(
        r"\b(sans (internet|ordinateur|ordi|smartphone|mail|email|adresse mail|carte bancaire|cb)|"
        r"pas (d |de )?(internet|ordinateur|ordi|mail|email)|hors ligne|(version|formulaire|dossier|format) papier|"
        r"sur papier|en papier|par courrier|au guichet|par telephone)\b"
    ),
    "steps": re.compile(
        r"\b(comment (faire|on fait|je fais|je dois faire|proceder|ca marche|obtenir|avoir|demander|refaire|faut il)|"
        r"demarches?|etapes?|marche a suivre)\b"
    ),
}
_ONLINE = re.compile(r"\b(en ligne|sur internet|par internet|sur le site|site internet)\b")
_LOST = re.compile(
    r"\b(perdu|perdue|perdus|perdues|perte|egare|egaree|egares|paume|paumee|retrouve plus|plus retrouver)\b"
)
_STOLEN = re.compile(
    r"\b(vole|volee|voles|volees|derobe|derobee|arrache|arrachee|cambriol\w{0,6}|"
    r"(en cas de|declarer (un |le |mon )?|declaration de|plainte pour( un)?|victime d un|apres (un|le)|"
    r"suite a un) vol)\b"
)
# "mon fils de 12 ans", "ma fille a 16 ans", "jai 17 ans", "bebe de 8 mois"; not "il y a 2 ans", "moins de 15 ans".
_AGE = re.compile(
    r"\b(?:(?<!moins )(?<!plus )de|(?<!y )a|agee?s?|ai|jai|aura|aurai|fils|fille|enfant|bebe|ado|petit|petite)"
    r" (\d{1,3}) (ans?|mois)\b"
)
_MINOR = re.compile(r"\b(enfants?|fils|filles?|mineurs?|mineures?|bebes?|ados?|adolescents?|adolescentes?|nourrisson|"
                    r"gamins?|gamines?|petit|petite)\b")
_ADULT = re.compile(r"\b(majeurs?|majeures?|adultes?)\b")
MAJORITY = 18


@dataclass(frozen=True)
class Question:
    """What the person asked (aspects, best first) and told (age, minor, lost or stolen, offline)."""

    aspects: tuple[str, ...] = ()
    age: int | None = None
    minor: bool | None = None
    lost_or_stolen: str | None = None  # "lost" or "stolen"
    offline: bool = False
    online: bool = False
    text: str = field(default="", compare=False)

    @property
    def aspect(self) -> str | None:
        """The one detail to answer first, or None for a question about the procedure as a whole."""
        return self.aspects[0] if self.aspects else None

    @property
    def situations(self) -> frozenset[str]:
        """The facts told, as the `situations` words of the knowledge base's cases."""
        facts: set[str] = set()
        if self.lost_or_stolen:
            facts.add(self.lost_or_stolen)
        if self.minor is True:
            facts.add("minor")
        if self.minor is False:
            facts.add("adult")
        return frozenset(facts)


def read_question(text: str | None) -> Question:
    """The aspects asked and the facts told in one message (empty Question for an empty one)."""
    plain = normalise((text or "")[:MAX_QUESTION_CHARS])
    if not plain:
        return Question()
    aspects = tuple(name for name in ASPECTS if _ASPECT_PATTERNS[name].search(plain))
    age = _read_age(plain)
    minor: bool | None = None
    if age is not None:
        minor = age < MAJORITY
    elif _MINOR.search(plain):
        minor = True
    elif _ADULT.search(plain):
        minor = False
    lost_or_stolen = "stolen" if _STOLEN.search(plain) else "lost" if _LOST.search(plain) else None
    offline = "offline" in aspects
    return Question(aspects=aspects, age=age, minor=minor, lost_or_stolen=lost_or_stolen, offline=offline,
                    online=not offline and bool(_ONLINE.search(plain)), text=plain)


def _read_age(plain: str) -> int | None:
    match = _AGE.search(plain)
    if match is None:
        return None
    value = int(match.group(1))
    if match.group(2) == "mois":
        return 0 if value < 24 else value // 12
    return value if value <= 120 else None


def with_remembered(question: Question, *, age: float | int | None = None, minor: bool | None = None,
                    lost_or_stolen: str | None = None) -> Question:
    """The question completed by what the person told earlier (slots), when this message does not say it."""
    if question.age is None and question.minor is None:
        if age is not None:
            question = replace(question, age=int(age), minor=int(age) < MAJORITY)
        elif minor is not None:
            question = replace(question, minor=bool(minor))
    if question.lost_or_stolen is None and lost_or_stolen in ("lost", "stolen"):
        question = replace(question, lost_or_stolen=lost_or_stolen)
    return question


# Slots that keep what the person told (age, child, loss or theft) for the next questions.
AGE_SLOT = "person_age"
MINOR_SLOT = "person_minor"
LOSS_SLOT = "lost_or_stolen"
PROCEDURE_SLOT = "last_procedure"


def remembered_question(text: str, slot: Callable[[str], Any], procedure_id: str) -> Question:
    """The question of this message, completed by the age and child told earlier, and by a loss or theft told
    about this same procedure (a lost identity card says nothing about the passport asked next)."""
    same = slot(PROCEDURE_SLOT) == procedure_id
    return with_remembered(read_question(text), age=slot(AGE_SLOT), minor=slot(MINOR_SLOT),
                           lost_or_stolen=slot(LOSS_SLOT) if same else None)


def told_slot_values(told: Question) -> dict[str, Any]:
    """The slots this message sets (nothing is forgotten when a message says nothing)."""
    values: dict[str, Any] = {}
    if told.age is not None:
        values[AGE_SLOT] = float(told.age)
    if told.minor is not None:
        values[MINOR_SLOT] = told.minor
    if told.lost_or_stolen is not None:
        values[LOSS_SLOT] = told.lost_or_stolen
    return values
