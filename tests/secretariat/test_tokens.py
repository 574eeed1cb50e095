"""Per-commune tokens: stored hashed, checked, revoked; the CLI prints a token once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.secretariat import tokens as token_cli
from bot.secretariat.store import secretariat_engine, tokens_table
from bot.secretariat.tokens import TokenError, authenticate, create_token, revoke_token


@pytest.fixture()
def engine(tmp_path):  # type: ignore[no-untyped-def]
    return secretariat_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_token_is_stored_only_as_a_hash(engine) -> None:  # type: ignore[no-untyped-def]
    token = create_token(engine, "Mairie de Lille", "59350")
    with engine.connect() as connection:
        stored = connection.execute(select(tokens_table)).mappings().one()
    assert token not in stored.values()
    assert stored["token_hash"] != token and len(stored["token_hash"]) == 64


def test_valid_token_identifies_its_commune(engine) -> None:  # type: ignore[no-untyped-def]
    token = create_token(engine, "Mairie de Roubaix", "59512")
    who = authenticate(engine, token)
    assert who is not None and who.commune == "59512" and who.name == "Mairie de Roubaix" and not who.is_admin


@pytest.mark.parametrize("token", [None, "", "sec_wrong", "Bearer", "x" * 5000, "sec_' OR 1=1 --"])
def test_missing_or_wrong_token_is_refused(engine, token) -> None:  # type: ignore[no-untyped-def]
    create_token(engine, "Mairie de Lille", "59350")
    assert authenticate(engine, token) is None


def test_revoked_token_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    token = create_token(engine, "Mairie de Lille", "59350")
    assert revoke_token(engine, authenticate(engine, token).token_id)  # type: ignore[union-attr]
    assert authenticate(engine, token) is None


def test_unknown_commune_code_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TokenError):
        create_token(engine, "Mairie de Paris", "75056")


def test_cli_creates_a_token_that_works(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert token_cli.main(["--db", url, "create", "--commune", "59350", "--name", "Mairie de Lille"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert authenticate(secretariat_engine(url), token).commune == "59350"  # type: ignore[union-attr]
    assert token_cli.main(["--db", url, "create", "--commune", "99999", "--name", "Nulle part"]) == 2
