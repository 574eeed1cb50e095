"""Start the Rasa server, the action server and the web portal together; Ctrl-C stops them all."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot.channels.sms.config import uses_fake_gateway
from bot.paths import MODELS_DIR, PROJECT_ROOT, VAR_DIR
from bot.settings import _local_secret, get_settings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Ports:
    """Where each service listens."""

    rasa: int = 5005
    actions: int = 5055
    web: int = 8080
    sms_gateway: int = 9090  # SMS (issue 6): the fake gateway, started when no real one is configured


def model_path(name: str = "numecrivain.tar.gz") -> Path:
    """The model to load; only ever from models/ (CVE-2024-49375)."""
    path = (MODELS_DIR / name).resolve()
    if path.parent != MODELS_DIR.resolve():
        raise ValueError("the model must be a file inside models/")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run 'make train'")
    return path


def service_env(ports: Ports) -> dict[str, str]:
    """The environment every service shares: URLs, tokens and the database."""
    settings = get_settings()
    env = dict(os.environ)
    env.setdefault("ACTION_ENDPOINT_URL", f"http://localhost:{ports.actions}/webhook")
    env.setdefault("TRACKER_DIALECT", "sqlite")
    env.setdefault("TRACKER_DB", str(VAR_DIR / "tracker.db"))
    env.update(
        RASA_URL=f"http://localhost:{ports.rasa}",
        ACTIONS_URL=f"http://localhost:{ports.actions}",
        WEB_URL=f"http://localhost:{ports.web}",
        WEB_PORT=str(ports.web),
        RASA_API_TOKEN=settings.rasa_api_token,
        NUMECRIVAIN_INTERNAL_TOKEN=settings.internal_token,
        NUMECRIVAIN_DB_URL=settings.database_url,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    # SMS (issue 6): the channel and the fake gateway share the webhook key; the pepper pseudonymises numbers.
    env.update(SMS_WEBHOOK_SIGNING_KEY=_local_secret("SMS_WEBHOOK_SIGNING_KEY"),
               NUMECRIVAIN_SMS_PEPPER=_local_secret("NUMECRIVAIN_SMS_PEPPER"))
    if uses_fake_gateway(env):
        env.update(SMS_FAKE_GATEWAY_PORT=str(ports.sms_gateway),
                   SMS_BOT_WEBHOOK_URL=f"http://localhost:{ports.rasa}/webhooks/sms/android")
    return env


def endpoints_file() -> str:
    """SQLite tracker store by default; PostgreSQL when TRACKER_DIALECT says so."""
    return "endpoints.postgres.yml" if os.environ.get("TRACKER_DIALECT", "sqlite") != "sqlite" else "endpoints.yml"


def commands(ports: Ports, model: Path) -> dict[str, list[str]]:
    """The command line of each long-running service."""
    token = get_settings().rasa_api_token
    services = {
        "actions": [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(ports.actions)],
        "rasa": [
            str(BIN / "rasa"), "run", "--model", str(model), "--port", str(ports.rasa),
            "--interface", os.environ.get("RASA_INTERFACE", "127.0.0.1"),
            "--enable-api", "--auth-token", token, "--cors", "*",
            "--credentials", "credentials.yml", "--endpoints", endpoints_file(),
        ],
        "web": [str(BIN / "python"), "-m", "bot.web", "--port", str(ports.web)],
    }
    if uses_fake_gateway():  # SMS (issue 6): records outgoing SMS when no real gateway is configured
        services["sms-gateway"] = [str(BIN / "python"), "-m", "bot.channels.sms.fake_gateway",
                                   "--port", str(ports.sms_gateway)]
    return services


def wait_until_up(url: str, timeout: float = 300.0, supervisor: Supervisor | None = None) -> bool:
    """Poll a URL until it answers; give up after timeout seconds or when a service died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor is not None and supervisor.first_exit() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


class Supervisor:
    """Keeps child processes in their own process groups and stops them all together."""

    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one service in the project folder."""
        self.children[name] = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    def stop(self) -> None:
        """SIGTERM every group, then SIGKILL what is still alive after 10 s."""
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    def first_exit(self) -> tuple[str, int] | None:
        """The name and code of a service that stopped on its own, if any."""
        for name, child in self.children.items():
            if child.poll() is not None:
                return name, child.returncode
        return None


def _stop_on_signal(_signum: int, _frame: object) -> None:
    """SIGTERM, and SIGINT even when started in the background (where it is ignored), stop everything."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="talk to the bot in this terminal")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", 8080)))
    parser.add_argument("--sms-gateway-port", type=int, default=int(os.environ.get("SMS_FAKE_GATEWAY_PORT", 9090)))
    args = parser.parse_args(argv)
    ports = Ports(args.rasa_port, args.actions_port, args.web_port, args.sms_gateway_port)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        model = model_path()
    except (FileNotFoundError, ValueError) as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    env = service_env(ports)
    supervisor = Supervisor()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    started = time.monotonic()
    try:
        cmds = commands(ports, model)
        supervisor.start("actions", cmds["actions"], env)
        if args.shell:
            wait_until_up(f"http://localhost:{ports.actions}/health", 120)
            shell = [str(BIN / "rasa"), "shell", "--model", str(model), "--endpoints", endpoints_file()]
            return subprocess.call(shell, cwd=PROJECT_ROOT, env=env)
        supervisor.start("rasa", cmds["rasa"], env)
        supervisor.start("web", cmds["web"], env)
        if "sms-gateway" in cmds:
            supervisor.start("sms-gateway", cmds["sms-gateway"], env)
        ready = all(
            wait_until_up(url, supervisor=supervisor)
            for url in (f"http://localhost:{ports.actions}/health", f"http://localhost:{ports.rasa}/",
                        f"http://localhost:{ports.web}/healthz",
                        *([f"http://localhost:{ports.sms_gateway}/health"] if "sms-gateway" in cmds else []))
        )
        sms_gateway_line = (f"  Passerelle SMS factice :    http://localhost:{ports.sms_gateway}/messages\n"
                            if "sms-gateway" in cmds else "")
        if ready:
            print(
                f"\nNumécrivain est prêt en {time.monotonic() - started:.0f} s.\n"
                f"  Chat web et démonstration : http://localhost:{ports.web}/\n"
                f"  Console des agents :        http://localhost:{ports.web}/agents\n"
                f"  Secrétariats de mairie :    http://localhost:{ports.web}/secretariat\n"
                f"  Canal REST :                http://localhost:{ports.rasa}/webhooks/rest/webhook\n"
                f"  SMS (make sms) :            http://localhost:{ports.rasa}/webhooks/sms/android\n"
                f"{sms_gateway_line}"
                "Ctrl-C arrête tout.\n",
                flush=True,
            )
        while (stopped := supervisor.first_exit()) is None:
            time.sleep(0.5)
        print(f"Numécrivain: the {stopped[0]} service stopped (exit code {stopped[1]}).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nArrêt de Numécrivain...", flush=True)
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
