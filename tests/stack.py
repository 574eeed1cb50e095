"""Start the real stack (Rasa + actions + portal + fake SMS gateway) on free ports, as `make run` does.

Used by the `stack` fixture and by the benchmarks, so both measure the same thing.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from bot.paths import PROJECT_ROOT
from bot.service_auth import rasa_api_headers

_handed_out: set[int] = set()
T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], timeout: float = 60, what: str = "the condition") -> T:
    """Poll until `condition()` is truthy and return its value: services answer in their own time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    """A TCP port nobody listens on right now, and never handed out before in this process.

    The kernel may give a just-closed port again: two services started together would then collide.
    """
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass(frozen=True)
class Stack:
    """URLs and secrets of a running Numécrivain stack."""

    rasa_url: str
    actions_url: str
    web_url: str
    rasa_token: str
    internal_token: str
    database_url: str
    tracker_db: Path
    env: dict[str, str]
    sms_gateway_url: str = ""
    pid: int = 0
    actions_token: str = ""

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    @property
    def api_headers(self) -> dict[str, str]:
        """Authorization for Rasa's HTTP API (a fresh short JWT): tests never build auth themselves."""
        return rasa_api_headers(self.rasa_token)

    def parse(self, text: str, timeout: float = 30) -> dict[str, Any]:
        """Rasa's /model/parse of this text, as the portal asks it."""
        response = requests.post(f"{self.rasa_url}/model/parse", headers=self.api_headers, json={"text": text},
                                 timeout=timeout)
        response.raise_for_status()
        return response.json()


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack stopped while starting (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


@contextmanager
def running_stack(workdir: Path, extra_env: dict[str, str] | None = None, timeout: float = 240) -> Iterator[Stack]:
    """Start everything with its own databases in workdir; stop it all on exit (SIGINT, then SIGKILL)."""
    ports = {name: free_port() for name in ("rasa", "actions", "web", "sms_gateway")}
    rasa_token, internal_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    actions_token = secrets.token_urlsafe(32)
    database_url = f"sqlite:///{workdir / 'numecrivain.db'}"
    env = dict(os.environ)
    env.update(
        RASA_API_TOKEN=rasa_token,
        NUMECRIVAIN_INTERNAL_TOKEN=internal_token,
        NUMECRIVAIN_ACTIONS_TOKEN=actions_token,
        NUMECRIVAIN_DB_URL=database_url,
        TRACKER_DIALECT="sqlite",
        TRACKER_DB=str(workdir / "tracker.db"),
        ACTION_ENDPOINT_URL=f"http://localhost:{ports['actions']}/webhook",
        # SMS: own secrets; no real gateway, and the fake one asked for explicitly.
        SMS_WEBHOOK_SIGNING_KEY=secrets.token_urlsafe(16),
        NUMECRIVAIN_SMS_PEPPER=secrets.token_urlsafe(16),
        SMS_GATEWAY_URL="",
        TWILIO_ACCOUNT_SID="",
        SMS_FAKE_GATEWAY="1",
    )
    env.update(extra_env or {})
    log_path = workdir / "stack.log"
    command = [sys.executable, "-m", "bot.launcher", "--rasa-port", str(ports["rasa"]),
               "--actions-port", str(ports["actions"]), "--web-port", str(ports["web"]),
               "--sms-gateway-port", str(ports["sms_gateway"])]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        running = Stack(
            rasa_url=f"http://localhost:{ports['rasa']}",
            actions_url=f"http://localhost:{ports['actions']}",
            web_url=f"http://localhost:{ports['web']}",
            rasa_token=rasa_token,
            internal_token=internal_token,
            database_url=database_url,
            tracker_db=workdir / "tracker.db",
            env=env,
            sms_gateway_url=f"http://localhost:{ports['sms_gateway']}",
            pid=process.pid,
            actions_token=actions_token,
        )
        try:
            for url in (f"{running.actions_url}/health", f"{running.rasa_url}/", f"{running.web_url}/healthz",
                        f"{running.sms_gateway_url}/health"):
                _wait(url, process, timeout)
            yield running
        except Exception:
            log.flush()
            sys.stderr.write(log_path.read_text(errors="replace")[-5000:])
            raise
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
