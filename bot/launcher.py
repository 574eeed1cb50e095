"""Start the Rasa server, the action server and the web portal together; Ctrl-C stops them all."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, ValidationError

from bot.channels.sms.config import SmsSettings, sms_gateway_configured, uses_fake_gateway
from bot.db import upgrade as upgrade_database
from bot.handoff.config import HandoffConfig
from bot.paths import MODELS_DIR, PROJECT_ROOT, VAR_DIR
from bot.privacy.retention import RetentionPolicy
from bot.service_auth import WeakSecretError, require_strong_secret
from bot.settings import (
    EnvironmentSettings,
    ListenSettings,
    Settings,
    TrackerSettings,
    get_settings,
    local_secret,
    private_var_dir,
)

BIN = Path(sys.executable).parent
SHARED_SECRETS = ("RASA_API_TOKEN", "NUMECRIVAIN_ACTIONS_TOKEN", "NUMECRIVAIN_INTERNAL_TOKEN")


class RestartSettings(EnvironmentSettings):
    """How the supervisor restarts a service that died (defaults suit a laptop and a small server)."""

    restart_backoff_seconds: float = Field(default=1.0, gt=0, env="NUMECRIVAIN_RESTART_BACKOFF_SECONDS")
    restart_max_backoff_seconds: float = Field(default=30.0, gt=0, env="NUMECRIVAIN_RESTART_MAX_BACKOFF_SECONDS")
    restart_stable_seconds: float = Field(default=120.0, gt=0, env="NUMECRIVAIN_RESTART_STABLE_SECONDS")
    restart_max_quick_deaths: int = Field(default=5, gt=0, env="NUMECRIVAIN_RESTART_MAX_QUICK_DEATHS")


def start_up_problem(env: Mapping[str, str]) -> str | None:
    """Why the services must not start with this environment (a weak secret, a setting that does not fit)."""
    try:
        for name in SHARED_SECRETS:
            require_strong_secret(name, env[name])
        for section in (Settings, ListenSettings, TrackerSettings, HandoffConfig, SmsSettings, RetentionPolicy,
                        RestartSettings):
            section.from_environ(env)  # each names the variable that does not fit
    except (WeakSecretError, ValidationError) as exc:
        return str(exc)
    return None


def ready_message(heading: str, web: str, rasa: str, sms: str, extra: str = "") -> str:
    """What `make run` and `make run-prod` print once every service answers."""
    return (f"\n{heading}\n"
            f"  Chat web et démonstration : {web}/\n"
            f"  Console des agents :        {web}/agents\n"
            f"  Secrétariats de mairie :    {web}/secretariat\n"
            f"  Canal REST :                {rasa}/webhooks/rest/webhook\n"
            f"  {sms}\n"
            f"{extra}"
            "Ctrl-C arrête tout.\n")


@dataclass(frozen=True)
class Ports:
    """Where each service listens."""

    rasa: int = 5005
    actions: int = 5055
    web: int = 8080
    sms_gateway: int = 9090  # the fake SMS gateway, started only with SMS_FAKE_GATEWAY=1


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
        NUMECRIVAIN_ACTIONS_TOKEN=settings.actions_token,
        NUMECRIVAIN_DB_URL=settings.database_url,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    # The SMS channel and the fake gateway share the webhook key; the pepper pseudonymises numbers.
    env.update(SMS_WEBHOOK_SIGNING_KEY=local_secret("SMS_WEBHOOK_SIGNING_KEY"),
               NUMECRIVAIN_SMS_PEPPER=local_secret("NUMECRIVAIN_SMS_PEPPER"))
    if uses_fake_gateway(env):
        env.update(SMS_FAKE_GATEWAY_PORT=str(ports.sms_gateway),
                   SMS_BOT_WEBHOOK_URL=f"http://localhost:{ports.rasa}/webhooks/sms/android")
    return env


def endpoints_file() -> str:
    """SQLite tracker store by default; PostgreSQL when TRACKER_DIALECT says so."""
    return "endpoints.postgres.yml" if TrackerSettings().dialect != "sqlite" else "endpoints.yml"


def commands(ports: Ports, model: Path, environ: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The command line of each long-running service: no secret on any of them (`ps` shows them all)."""
    listen = ListenSettings.from_environ(environ)
    python = str(BIN / "python")
    services = {
        "actions": [python, "-m", "bot.action_server", "--port", str(ports.actions), "--host", listen.actions_host],
        "rasa": [
            python, "-m", "bot.rasa_server", "--model", str(model), "--port", str(ports.rasa),
            "--interface", listen.rasa_interface,
            "--enable-api", "--cors", "*",
            "--credentials", "credentials.yml", "--endpoints", endpoints_file(),
        ],
        "web": [python, "-m", "bot.web", "--port", str(ports.web)],
    }
    if uses_fake_gateway(environ):  # records outgoing SMS in memory: a demo or a test, never production
        services["sms-gateway"] = [python, "-m", "devtools.fake_sms_gateway", "--port", str(ports.sms_gateway)]
    return services


def wait_until_up(url: str, timeout: float = 300.0, supervisor: Supervisor | None = None) -> bool:
    """Poll a URL until it answers (restarting dead services meanwhile); False after timeout or when given up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor is not None:
            supervisor.check()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


class GaveUpError(RuntimeError):
    """A service died too many times in a row, too soon after each start: restarting it again is pointless."""


@dataclass
class Child:
    """One supervised service and its restart history."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    started_at: float
    quick_deaths: int = 0
    restarts: int = 0
    restart_at: float | None = None
    exit_codes: list[int] = field(default_factory=list)


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)


def _log(message: str) -> None:
    print(f"Numécrivain: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Runs each service in its own process group and restarts one that dies, with exponential backoff.

    The others keep serving meanwhile. A service that dies again within `stable_seconds` of its start counts a
    quick death; the wait doubles each time (1 s, 2 s, 4 s... up to `max_backoff`), and after `max_quick_deaths`
    in a row the supervisor gives up loudly (GaveUpError) so that `make run` or the orchestrator sees it.
    """

    def __init__(
        self,
        spawn: Callable[[list[str], dict[str, str]], subprocess.Popen[bytes]] = _spawn,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = _log,
        base_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_seconds: float = 120.0,
        max_quick_deaths: int = 5,
    ) -> None:
        self.children: dict[str, Child] = {}
        self._spawn, self._clock, self._log = spawn, clock, log
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.stable_seconds, self.max_quick_deaths = stable_seconds, max_quick_deaths

    @classmethod
    def from_environment(cls) -> Supervisor:
        """Limits from NUMECRIVAIN_RESTART_* (defaults suit a laptop and a small server)."""
        settings = RestartSettings()
        return cls(base_backoff=settings.restart_backoff_seconds, max_backoff=settings.restart_max_backoff_seconds,
                   stable_seconds=settings.restart_stable_seconds,
                   max_quick_deaths=settings.restart_max_quick_deaths)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one service in the project folder."""
        self.children[name] = Child(name, command, env, self._spawn(command, env), self._clock())

    def pid(self, name: str) -> int:
        """The process id of a service now (it changes when the service is restarted)."""
        return self.children[name].process.pid

    def backoff(self, quick_deaths: int) -> float:
        """Seconds to wait before the next start, after this many quick deaths in a row."""
        return min(self.max_backoff, self.base_backoff * 2 ** max(0, quick_deaths - 1))

    def check(self) -> None:
        """Notice services that died, restart those whose wait is over; GaveUpError when one keeps dying."""
        now = self._clock()
        for child in self.children.values():
            if child.restart_at is None:
                code = child.process.poll()
                if code is None:
                    continue
                child.exit_codes.append(code)
                quick = now - child.started_at < self.stable_seconds
                child.quick_deaths = child.quick_deaths + 1 if quick else 1
                if child.quick_deaths > self.max_quick_deaths:
                    self._log(f"the {child.name} service died {child.quick_deaths} times in a row, each time less "
                              f"than {self.stable_seconds:.0f} s after starting (exit codes {child.exit_codes[-5:]}). "
                              "Giving up: look at its log above.")
                    raise GaveUpError(child.name)
                delay = self.backoff(child.quick_deaths)
                child.restart_at = now + delay
                self._log(f"the {child.name} service stopped (exit code {code}); "
                          f"restarting it in {delay:.0f} s, the other services keep running.")
            if child.restart_at is not None and now >= child.restart_at:
                child.process = self._spawn(child.command, child.env)
                child.started_at, child.restart_at = now, None
                child.restarts += 1
                self._log(f"the {child.name} service restarted (restart {child.restarts}).")

    def stop(self) -> None:
        """SIGTERM every group, then SIGKILL what is still alive after 10 s."""
        processes = [child.process for child in self.children.values()]
        for process in processes:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _stop_on_signal(_signum: int, _frame: object) -> None:
    """SIGTERM, and SIGINT even when started in the background (where it is ignored), stop everything."""
    raise KeyboardInterrupt


def run_until_stopped(start: Callable[[], int | None], tick: Callable[[], None], stop: Callable[[], None],
                      period: float, failures: tuple[type[Exception], ...] = ()) -> int:
    """`make run` and `make run-prod`: start, then tick until Ctrl-C or SIGTERM (exit 0) or a failure (exit 1).

    `start` may end the run early with an exit code; whatever happens, `stop` is called.
    """
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    try:
        code = start()
        if code is not None:
            return code
        while True:
            tick()
            time.sleep(period)
    except GaveUpError:
        return 1  # the supervisor has said which service and why
    except failures as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nArrêt de Numécrivain...", flush=True)
        return 0
    finally:
        stop()


class StartUpError(Exception):
    """What stops `make run` before any service starts, said in one line."""


def _arguments(argv: list[str] | None, settings: Settings, listen: ListenSettings,
               sms: SmsSettings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="talk to the bot in this terminal")
    parser.add_argument("--rasa-port", type=int, default=listen.rasa_port)
    parser.add_argument("--actions-port", type=int, default=listen.actions_port)
    parser.add_argument("--web-port", type=int, default=settings.web_port)
    parser.add_argument("--sms-gateway-port", type=int, default=sms.fake_gateway_port)
    return parser.parse_args(argv)


def _prepare(argv: list[str] | None) -> tuple[argparse.Namespace, Ports, Path, dict[str, str]]:
    """Settings, ports, model and environment checked, and the database migrated: StartUpError otherwise."""
    private_var_dir()
    try:
        args = _arguments(argv, get_settings(), ListenSettings(), SmsSettings())
        ports = Ports(args.rasa_port, args.actions_port, args.web_port, args.sms_gateway_port)
        model = model_path()
        env = service_env(ports)
    except (ValidationError, FileNotFoundError, ValueError) as exc:
        raise StartUpError(str(exc)) from exc
    problem = start_up_problem(env)
    if problem:
        raise StartUpError(problem)
    try:  # once, before any service: they then find the schema ready and never race to create it
        upgrade_database(env["NUMECRIVAIN_DB_URL"])
    except Exception as exc:  # any failure here must stop the start, with a clear line
        raise StartUpError(f"the project database could not be migrated ({type(exc).__name__}: {exc}).") from exc
    return args, ports, model, env


def _warn_about_setup(env: dict[str, str]) -> None:
    """Say what will not work with this configuration (the services still start)."""
    if env.get("SANIC_WORKERS", "1").strip() not in ("", "1") and not env.get("NUMECRIVAIN_REDIS_URL"):
        print("Numécrivain: several Rasa workers (SANIC_WORKERS) without NUMECRIVAIN_REDIS_URL: REST is fine, "
              "but an agent's message may miss a web chat held by another worker, and the parts of a long SMS "
              "may not be joined: for those, use make run-prod.", file=sys.stderr, flush=True)


def _start_services(args: argparse.Namespace, ports: Ports, model: Path, env: dict[str, str],
                    supervisor: Supervisor, started: float) -> int | None:
    """Start every service and say where they are; the shell's exit code with --shell, None otherwise."""
    cmds = commands(ports, model, env)
    supervisor.start("actions", cmds["actions"], env)
    if args.shell:
        wait_until_up(f"http://localhost:{ports.actions}/health", 120)
        shell = [str(BIN / "rasa"), "shell", "--model", str(model), "--endpoints", endpoints_file()]
        return subprocess.call(shell, cwd=PROJECT_ROOT, env=env)
    _warn_about_setup(env)
    supervisor.start("rasa", cmds["rasa"], env)
    supervisor.start("web", cmds["web"], env)
    if "sms-gateway" in cmds:
        supervisor.start("sms-gateway", cmds["sms-gateway"], env)
    elif not sms_gateway_configured(env):
        print("Numécrivain: no SMS gateway configured (SMS_GATEWAY_URL or TWILIO_*): SMS replies will NOT be "
              "sent. For a local demo, start with SMS_FAKE_GATEWAY=1.", file=sys.stderr, flush=True)
    ready = all(
        wait_until_up(url, supervisor=supervisor)
        for url in (f"http://localhost:{ports.actions}/health", f"http://localhost:{ports.rasa}/",
                    f"http://localhost:{ports.web}/healthz",
                    *([f"http://localhost:{ports.sms_gateway}/health"] if "sms-gateway" in cmds else []))
    )
    sms_gateway_line = (f"  Passerelle SMS factice :    http://localhost:{ports.sms_gateway}/messages\n"
                        if "sms-gateway" in cmds else "")
    if ready:
        rasa = f"http://localhost:{ports.rasa}"
        print(ready_message(f"Numécrivain est prêt en {time.monotonic() - started:.0f} s.",
                            f"http://localhost:{ports.web}", rasa,
                            f"SMS (make sms) :            {rasa}/webhooks/sms/android", sms_gateway_line),
              flush=True)
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        args, ports, model, env = _prepare(argv)
    except StartUpError as exc:
        print(f"Numécrivain: {exc}", file=sys.stderr)
        return 1
    supervisor = Supervisor.from_environment()
    started = time.monotonic()
    return run_until_stopped(lambda: _start_services(args, ports, model, env, supervisor, started),
                             supervisor.check, supervisor.stop, period=0.5)


if __name__ == "__main__":
    sys.exit(main())
