"""Start the production stack (PostgreSQL, Redis, nginx, 2 Rasa processes...) in a temporary folder, on free ports."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.prod.stack import ProdPorts, ProdSecrets, ProdStack


def test_environment() -> dict[str, str]:
    """Fresh secrets; no real SMS gateway; per-address limits off (every simulated person comes from 127.0.0.1)."""
    env = dict(os.environ)
    env.update(
        RASA_API_TOKEN=secrets.token_urlsafe(32), NUMECRIVAIN_INTERNAL_TOKEN=secrets.token_urlsafe(32),
        NUMECRIVAIN_ACTIONS_TOKEN=secrets.token_urlsafe(32), SMS_WEBHOOK_SIGNING_KEY=secrets.token_urlsafe(16),
        NUMECRIVAIN_SMS_PEPPER=secrets.token_urlsafe(16), NUMECRIVAIN_RATELIMIT_PEPPER=secrets.token_urlsafe(16),
        SMS_GATEWAY_URL="", TWILIO_ACCOUNT_SID="", NUMECRIVAIN_RESTART_BACKOFF_SECONDS="1",
    )
    env.pop("SANIC_PROXIES_COUNT", None)
    return env


@contextmanager
def prod_stack(replicas: int = 2, workdir: Path | None = None) -> Iterator[ProdStack]:
    """The whole production stack, stopped on exit; its logs are printed when it fails to start."""
    with tempfile.TemporaryDirectory(prefix="numecrivain-prod-") as tmp:
        root = Path(workdir or tmp) / "prod"
        stack = ProdStack(root, ProdPorts.free(replicas), ProdSecrets.fresh(), test_environment(), replicas=replicas,
                          fake_sms_gateway=True, durable=False, action_timeout=6)
        try:
            stack.start()
            yield stack
        except Exception:
            for log in sorted((root / "log").glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
            raise
        finally:
            stack.stop()
