"""Start `rasa run` in this process, with the HTTP API's key read from the environment, not the command line.

`rasa run --auth-token X` shows X to anyone who runs `ps` and accepts it in `?token=` query strings, which end
up in proxy and access logs. Here Rasa gets the key as a JWT secret (`--jwt-secret`, HS256) added to its
arguments inside this process only, so `ps` shows none; our clients send a short-lived JWT in the
Authorization header (bot.service_auth). Every other option is Rasa's own:

    python -m bot.rasa_server --model models/numecrivain.tar.gz --enable-api --port 5005 ...
"""

from __future__ import annotations

import sys

from bot.service_auth import RASA_JWT_METHOD, WeakSecretError, require_strong_secret
from bot.settings import get_settings

FORBIDDEN_OPTIONS = ("--auth-token", "--jwt-secret", "-t")


def rasa_argv(options: list[str], jwt_secret: str) -> list[str]:
    """The argument vector Rasa's own CLI parses: `rasa run` + our options + the JWT secret."""
    for option in options:
        if option.split("=", 1)[0] in FORBIDDEN_OPTIONS:
            raise ValueError(f"{option.split('=', 1)[0]}: secrets come from the environment, not the command line")
    # `--jwt-secret=X`, not `--jwt-secret X`: a random secret may start with "-", which argparse would take
    # for an option (the server then refused to start).
    return ["rasa", "run", *options, f"--jwt-secret={jwt_secret}", "--jwt-method", RASA_JWT_METHOD]


def main(argv: list[str] | None = None) -> None:
    options = list(sys.argv[1:] if argv is None else argv)
    try:
        secret = require_strong_secret("RASA_API_TOKEN", get_settings().rasa_api_token)
    except WeakSecretError as exc:
        sys.exit(f"Numécrivain: {exc}")
    # Only this process's copy of argv changes: /proc/<pid>/cmdline (what ps shows) keeps the original.
    sys.argv = rasa_argv(options, secret)
    from bot import rasa_speedups

    rasa_speedups.install(options)  # before Rasa loads the model: thread pools, TensorFlow, spaCy, action calls
    from rasa.__main__ import main as rasa_main

    from bot.resilience import install as install_resilience

    install_resilience()  # each message once, a kind answer when an action fails (bot/resilience.py)

    rasa_main()


if __name__ == "__main__":
    main()
