"""Per-commune tokens: stored hashed, checked, revoked; the CLI prints a token once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.secretariat import tokens as token_cli
from bot.secretariat.store import secretariat_engine, tokens_table
from bot.secretariat.tokens import TokenError, authenticate, create_token, revoke_token


@pytest.fixture()
def engine(tmp_path):
    return secretariat_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_token_is_stored_only_as_a_hash(engine) -> None:
    token = create_token(engine, "Mairie de Lille", "59350")
    with engine.connect() as connection:
        stored = connection.execute(select(tokens_table)).mappings().one()
    assert token not in stored.values()
    assert stored["token_hash"] != token and len(stored["token_hash"]) == 64


def test_valid_token_identifies_its_commune(engine) -> None:
    token = create_token(engine, "Mairie de Roubaix", "59512")
    who = authenticate(engine, token)
    assert who is not None and who.commune == "59512" and who.name == "Mairie de Roubaix" and not who.is_admin


@pytest.mark.parametrize("token", [None, "", "sec_wrong", "Bearer", "x" * 5000, "sec_' OR 1=1 --"])
def test_missing_or_wrong_token_is_refused(engine, token) -> None:
    create_token(engine, "Mairie de Lille", "59350")
    assert authenticate(engine, token) is None


def test_revoked_token_is_refused(engine) -> None:
    token = create_token(engine, "Mairie de Lille", "59350")
    secretariat = authenticate(engine, token)
    assert secretariat is not None and revoke_token(engine, secretariat.token_id)
    assert authenticate(engine, token) is None


def test_unknown_commune_code_is_refused(engine) -> None:
    with pytest.raises(TokenError):
        create_token(engine, "Mairie de Paris", "75056")


def test_cli_creates_a_token_that_works(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert token_cli.main(["--db", url, "create", "--commune", "59350", "--name", "Mairie de Lille"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    secretariat = authenticate(secretariat_engine(url), token)
    assert secretariat is not None and secretariat.commune == "59350"
    assert token_cli.main(["--db", url, "create", "--commune", "99999", "--name", "Nulle part"]) == 2
