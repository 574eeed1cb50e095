"""A person, always: every response the bot can send offers 'Parler à une personne'."""

from __future__ import annotations

import yaml

from bot.paths import PROJECT_ROOT
from bot.replies import HUMAN_PAYLOAD

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_every_domain_response_offers_a_person() -> None:
    missing = [
        name
        for name, variations in DOMAIN["responses"].items()
        for variation in variations
        if not any(button.get("payload") == HUMAN_PAYLOAD for button in variation.get("buttons", []))
    ]
    assert not missing


def test_request_human_intent_exists_and_has_a_rule() -> None:
    rules = (PROJECT_ROOT / "data" / "rules" / "handoff.yml").read_text(encoding="utf-8")
    assert "request_human" in DOMAIN["intents"]
    assert "intent: request_human" in rules
