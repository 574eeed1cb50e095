"""Rasa's command line built in-process: any secret reaches Rasa's parser as the JWT secret."""

from __future__ import annotations

import pytest

from bot.rasa_server import rasa_argv


@pytest.mark.parametrize("secret", ["-starts-with-a-dash-0123456789abcdef", "plainsecret0123456789abcdefghijk"])
def test_rasa_parses_any_secret_as_the_jwt_secret(secret: str) -> None:
    import argparse

    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    parsed, _ = parser.parse_known_args(rasa_argv(["--port", "5005"], secret)[2:])
    assert parsed.jwt_secret == secret and parsed.port == 5005


def test_a_secret_on_the_command_line_is_refused() -> None:
    with pytest.raises(ValueError, match="environment"):
        rasa_argv(["--jwt-secret", "x"], "secret")
