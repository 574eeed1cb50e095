"""What the load test says: short conversations of each kind, and the cycle of a long one (plain lists only)."""

from __future__ import annotations

PROCEDURES = [
    "bonjour", "jai perdu ma carte d'identité", "et pour le passeport ?", "combien de temps ça prend",
    "comment faire une demande d'APL", "carte grise vendu ma voiture", "mot de passe impots oublié",
    "inscription sur les listes électorales", "quand passent les poubelles", "merci",
]
PLACES = [
    "je cherche un médiateur numérique à Roubaix", "un lieu pour imprimer à Seclin", "aide informatique 59000",
    "ou trouver un ordinateur a Tourcoing", "merci beaucoup",
]
SMS_STYLE = [
    "slt jai pa internet pr la caf", "kel papier pr carte grise", "jsui perdu avec ameli", "mon rsa bloké",
    "ok mrc", "bjr c pr un acte de naissance",
]
HANDOFF = ["bonjour", "je veux parler à quelqu'un", "c'est pour un dossier caf", "merci"]
# A long conversation never asks for a person: after a handoff the bot rightly stays silent.
LONG_CYCLE = PROCEDURES + PLACES + SMS_STYLE
CONVERSATIONS = [(PROCEDURES[:5], "procedure"), (PLACES, "place"), (SMS_STYLE, "sms"), (HANDOFF, "handoff")]
WEIGHTS = [4, 3, 2, 1]
