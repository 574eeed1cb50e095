"""`make run-prod`: the production stack on this machine, data in var/prod/; Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from bot.launcher import _stop_on_signal
from bot.paths import VAR_DIR
from bot.prod.stack import ProdPorts, ProdSecrets, ProdSetupError, ProdStack
from bot.service_auth import WeakSecretError, require_strong_secret
from bot.settings import get_settings, local_secret, private_var_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("RASA_REPLICAS", 2)),
                        help="Rasa server processes (RASA_REPLICAS, default 2)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("NUMECRIVAIN_PUBLIC_PORT", 8000)),
                        help="nginx's public port (NUMECRIVAIN_PUBLIC_PORT, default 8000)")
    parser.add_argument("--host", default=os.environ.get("NUMECRIVAIN_PUBLIC_HOST", "127.0.0.1"),
                        help="nginx's public address (default 127.0.0.1; 0.0.0.0 behind a firewall or TLS proxy)")
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= 16:
        print("Numécrivain: RASA_REPLICAS must be between 1 and 16.", file=sys.stderr)
        return 1
    private_var_dir()
    settings = get_settings()
    env = dict(os.environ)
    env.update(RASA_API_TOKEN=settings.rasa_api_token, NUMECRIVAIN_INTERNAL_TOKEN=settings.internal_token,
               NUMECRIVAIN_ACTIONS_TOKEN=settings.actions_token,
               SMS_WEBHOOK_SIGNING_KEY=local_secret("SMS_WEBHOOK_SIGNING_KEY"),
               NUMECRIVAIN_SMS_PEPPER=local_secret("NUMECRIVAIN_SMS_PEPPER"),
               NUMECRIVAIN_RATELIMIT_PEPPER=local_secret("NUMECRIVAIN_RATELIMIT_PEPPER"))
    # Behind nginx, the client's address is the one nginx forwards (per-address limits).
    env.setdefault("SANIC_PROXIES_COUNT", "1")
    try:
        for name in ("RASA_API_TOKEN", "NUMECRIVAIN_ACTIONS_TOKEN", "NUMECRIVAIN_INTERNAL_TOKEN"):
            require_strong_secret(name, env[name])
    except WeakSecretError as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    ports = ProdPorts.defaults(args.replicas)
    ports = ProdPorts(args.port, ports.internal_rasa, ports.internal_actions, ports.postgres, ports.redis, ports.rasa,
                      ports.actions, ports.web, ports.sms_gateway)
    stack = ProdStack(VAR_DIR / "prod", ports, ProdSecrets.load(), env, replicas=args.replicas,
                      fake_sms_gateway=env.get("SMS_FAKE_GATEWAY", "") == "1", public_host=args.host)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    started = time.monotonic()
    try:
        stack.start()
        public = f"http://localhost:{ports.public}"
        print(
            f"\nNumécrivain (production, {args.replicas} processus Rasa, PostgreSQL, Redis, nginx) est prêt en "
            f"{time.monotonic() - started:.0f} s.\n"
            f"  Chat web et démonstration : {public}/\n"
            f"  Console des agents :        {public}/agents\n"
            f"  Secrétariats de mairie :    {public}/secretariat\n"
            f"  Canal REST :                {public}/webhooks/rest/webhook\n"
            f"  SMS :                       {public}/webhooks/sms/android et /webhooks/sms/twilio\n"
            f"  Journaux :                  {stack.root / 'log'}\n"
            "Ctrl-C arrête tout.\n",
            flush=True,
        )
        while True:
            time.sleep(1)
    except (ProdSetupError, TimeoutError) as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nArrêt de Numécrivain...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
