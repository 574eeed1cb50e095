"""End to end with the real trained model: the secretariat API ranks with the bot's own NLU."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from bot.secretariat.store import secretariat_engine
from bot.secretariat.tokens import create_token

pytestmark = pytest.mark.stack


def test_secretary_gets_the_full_passport_procedure_ranked_by_the_real_model(stack) -> None:
    token = create_token(secretariat_engine(stack.database_url), "Mairie de Lille", "59350")
    query = urllib.parse.quote("pièces pour une première demande de passeport mineur")
    request = urllib.request.Request(f"{stack.web_url}/api/v1/answers?q={query}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = json.loads(reply.read())
    assert body["method"] == "nlu+keywords"
    procedure = body["answers"][0]["procedure"]
    assert procedure["id"] == "passport"
    assert procedure["links"] and procedure["checked"]
