"""`make run-prod`: the production stack on this machine, data in var/prod/; Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

from pydantic import Field, ValidationError

from bot.channels.sms.config import uses_fake_gateway
from bot.launcher import ready_message, run_until_stopped, start_up_problem
from bot.paths import VAR_DIR
from bot.prod.stack import ProdPorts, ProdSecrets, ProdSetupError, ProdStack
from bot.settings import EnvironmentSettings, local_secret, private_var_dir


class ProdSettings(EnvironmentSettings):
    """The production stack's shape on this machine."""

    replicas: int = Field(default=2, env="RASA_REPLICAS")
    public_port: int = Field(default=8000, env="NUMECRIVAIN_PUBLIC_PORT")
    public_host: str = Field(default="127.0.0.1", env="NUMECRIVAIN_PUBLIC_HOST")


def main(argv: list[str] | None = None) -> int:
    try:
        settings = ProdSettings()
    except ValidationError as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=settings.replicas,
                        help="Rasa server processes (RASA_REPLICAS, default 2)")
    parser.add_argument("--port", type=int, default=settings.public_port,
                        help="nginx's public port (NUMECRIVAIN_PUBLIC_PORT, default 8000)")
    parser.add_argument("--host", default=settings.public_host,
                        help="nginx's public address (default 127.0.0.1; 0.0.0.0 behind a firewall or TLS proxy)")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= 16:
        print("Numécrivain: RASA_REPLICAS must be between 1 and 16.", file=sys.stderr)
        return 1
    private_var_dir()
    env = dict(os.environ)
    env.update(RASA_API_TOKEN=local_secret("RASA_API_TOKEN"),
               NUMECRIVAIN_INTERNAL_TOKEN=local_secret("NUMECRIVAIN_INTERNAL_TOKEN"),
               NUMECRIVAIN_ACTIONS_TOKEN=local_secret("NUMECRIVAIN_ACTIONS_TOKEN"),
               SMS_WEBHOOK_SIGNING_KEY=local_secret("SMS_WEBHOOK_SIGNING_KEY"),
               NUMECRIVAIN_SMS_PEPPER=local_secret("NUMECRIVAIN_SMS_PEPPER"),
               NUMECRIVAIN_RATELIMIT_PEPPER=local_secret("NUMECRIVAIN_RATELIMIT_PEPPER"))
    # Behind nginx, the client's address is the one nginx forwards (per-address limits).
    env.setdefault("SANIC_PROXIES_COUNT", "1")
    problem = start_up_problem(env)
    if problem:
        print(f"Numécrivain: {problem}", file=sys.stderr)
        return 1
    ports = ProdPorts.defaults(args.replicas)
    ports = dataclasses.replace(ports, public=args.port)
    stack = ProdStack(VAR_DIR / "prod", ports, ProdSecrets.load(), env, replicas=args.replicas,
                      fake_sms_gateway=uses_fake_gateway(env), public_host=args.host)
    started = time.monotonic()

    def start() -> None:
        stack.start()
        public = f"http://localhost:{ports.public}"
        print(ready_message(f"Numécrivain (production, {args.replicas} processus Rasa, PostgreSQL, Redis, nginx) "
                            f"est prêt en {time.monotonic() - started:.0f} s.", public, public,
                            f"SMS :                       {public}/webhooks/sms/android et /webhooks/sms/twilio",
                            f"  Journaux :                  {stack.root / 'log'}\n"), flush=True)

    return run_until_stopped(start, lambda: None, stack.stop, period=1.0, failures=(ProdSetupError, TimeoutError))

if __name__ == "__main__":
    sys.exit(main())
