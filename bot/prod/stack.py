"""Prepare, start, watch and stop the production stack; used by `make run-prod`, tests/prod/ and bench/prod_load.py."""

from __future__ import annotations

import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.launcher import BIN, Supervisor, model_path
from bot.paths import PROJECT_ROOT

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "numecrivain.conf.template"
DB_USER = "numecrivain"
TRACKER_DATABASE = "tracker"
PROJECT_DATABASE = "numecrivain"
DEFAULT_ACTION_TIMEOUT_SECONDS = 10
# Longer than any turn (else a resent message could run beside a slow first one); a killed process's locks expire.
LOCK_LIFETIME_SECONDS = 60


class ProdSetupError(RuntimeError):
    """A system package is missing or a service could not be prepared."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path:
    """Debian's PostgreSQL server programs (initdb, postgres)."""
    for candidate in PG_BIN_CANDIDATES:
        if (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise ProdSetupError("PostgreSQL is not installed: apt-get install -y postgresql (make run-prod does it)")


def require_program(name: str) -> str:
    """The path of a program on PATH (or /usr/sbin), or a clear error."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if found is None:
        raise ProdSetupError(f"{name} is not installed: apt-get install -y {name} (make run-prod does it)")
    return found


@dataclass(frozen=True)
class ProdPorts:
    """Where each piece listens; only `public` is meant to be reachable from outside."""

    public: int = 8000
    internal_rasa: int = 5004
    internal_actions: int = 5054
    postgres: int = 5433
    redis: int = 6380
    rasa: tuple[int, ...] = (5005, 5006)
    actions: tuple[int, ...] = (5055, 5056)
    web: tuple[int, ...] = (8080, 8081)
    sms_gateway: int = 9090
    internal_portal: int = 8079

    @classmethod
    def free(cls, replicas: int = 2) -> ProdPorts:
        """Free ports for everything (tests and benchmarks)."""
        return cls(free_port(), free_port(), free_port(), free_port(), free_port(),
                   tuple(free_port() for _ in range(replicas)), (free_port(), free_port()),
                   (free_port(), free_port()), free_port(), free_port())

    @classmethod
    def defaults(cls, replicas: int) -> ProdPorts:
        """The fixed ports of `make run-prod` for this many Rasa processes."""
        return cls(rasa=tuple(5005 + index for index in range(replicas)))


@dataclass
class ProdSecrets:
    """Passwords and tokens shared by the services; from the environment or generated once in var/."""

    postgres_password: str
    redis_password: str

    @classmethod
    def load(cls) -> ProdSecrets:
        from bot.settings import local_secret

        return cls(local_secret("NUMECRIVAIN_POSTGRES_PASSWORD"), local_secret("NUMECRIVAIN_REDIS_PASSWORD"))

    @classmethod
    def fresh(cls) -> ProdSecrets:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32))


def render_nginx(ports: ProdPorts, root: Path, public_host: str = "127.0.0.1",
                 action_timeout: int = DEFAULT_ACTION_TIMEOUT_SECONDS, turn_timeout: int = 60) -> str:
    """The nginx configuration from deploy/nginx/'s template, for these ports and this data folder."""

    def servers(port_list: tuple[int, ...]) -> str:
        return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in port_list)

    values = {
        "worker_processes": "2", "run_dir": str(root / "run"), "log_dir": str(root / "log"),
        "temp_dir": str(root / "nginx" / "tmp"), "rasa_servers": servers(ports.rasa),
        "web_servers": servers(ports.web), "action_servers": servers(ports.actions),
        "public_host": public_host, "public_port": str(ports.public),
        "internal_rasa_port": str(ports.internal_rasa), "internal_actions_port": str(ports.internal_actions),
        "internal_portal_port": str(ports.internal_portal),
        "action_timeout": str(action_timeout), "turn_timeout": str(turn_timeout),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        raise ProdSetupError("the nginx template has a placeholder nobody fills")
    return text


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as Debian's postgres user, able to reach var/ (0700)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--", *command]


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


@dataclass
class ProdStack:
    """The whole production stack under one data folder (var/prod/ for `make run-prod`, a tmp dir in tests)."""

    root: Path
    ports: ProdPorts
    secrets: ProdSecrets
    env: dict[str, str]
    replicas: int = 2
    fake_sms_gateway: bool = False
    durable: bool = True  # False in tests: PostgreSQL without fsync (a test machine's disk, not the data)
    action_timeout: int = DEFAULT_ACTION_TIMEOUT_SECONDS
    public_host: str = "127.0.0.1"
    log_files: list[IO[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._logs: dict[int, IO[bytes]] = {}
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        self.supervisor = Supervisor.from_environment()
        self.supervisor._spawn = self._spawn

    # URLs -----------------------------------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.public}"

    @property
    def internal_rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.internal_rasa}"

    @property
    def tracker_url(self) -> str:
        """SQLAlchemy URL of the conversations (for checks; the password is in it: never log it)."""
        return (f"postgresql://{DB_USER}:{self.secrets.postgres_password}@127.0.0.1:{self.ports.postgres}/"
                f"{TRACKER_DATABASE}")

    @property
    def database_url(self) -> str:
        return (f"postgresql://{DB_USER}:{self.secrets.postgres_password}@127.0.0.1:{self.ports.postgres}/"
                f"{PROJECT_DATABASE}")

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.secrets.redis_password}@127.0.0.1:{self.ports.redis}/0"

    # Preparation ------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Folders, PostgreSQL cluster (initdb once), Redis and nginx configuration."""
        for name in ("run", "log", "redis", "nginx", "nginx/tmp"):
            (self.root / name).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)
        _chown_to_postgres(self.root / "run")
        pg_data = self.root / "postgres"
        if not (pg_data / "PG_VERSION").exists():
            pg_data.mkdir(parents=True, exist_ok=True, mode=0o700)
            _chown_to_postgres(pg_data)
            password_file = self.root / "run" / "pg_password"
            _write_private(password_file, self.secrets.postgres_password + "\n")
            _chown_to_postgres(password_file)
            try:
                subprocess.run(_as_postgres_user([
                    str(postgres_bin() / "initdb"), "-D", str(pg_data), "-U", DB_USER, f"--pwfile={password_file}",
                    "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
                ]), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            except subprocess.CalledProcessError as exc:
                raise ProdSetupError(f"initdb failed: {exc.stderr.decode(errors='replace')[-500:]}") from exc
            finally:
                password_file.unlink(missing_ok=True)
        # Redis: the password in a 0600 file, never on a command line; no persistence needed (locks, rooms).
        _write_private(self.root / "redis" / "redis.conf", "\n".join([
            f"port {self.ports.redis}", "bind 127.0.0.1", f"dir {self.root / 'redis'}", "save \"\"",
            "appendonly no", "daemonize no", "protected-mode yes", f"requirepass {self.secrets.redis_password}",
            "loglevel warning", "",
        ]))
        (self.root / "nginx" / "nginx.conf").write_text(
            render_nginx(self.ports, self.root, self.public_host, self.action_timeout), encoding="utf-8")

    def _postgres_command(self) -> list[str]:
        settings = ["listen_addresses=127.0.0.1", f"unix_socket_directories={self.root / 'run'}",
                    "max_connections=300", "shared_buffers=128MB"]
        if not self.durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        command = [str(postgres_bin() / "postgres"), "-D", str(self.root / "postgres"), "-p", str(self.ports.postgres)]
        for setting in settings:
            command += ["-c", setting]
        return _as_postgres_user(command)

    def _nginx_command(self) -> list[str]:
        return [require_program("nginx"), "-p", str(self.root / "nginx"), "-c", str(self.root / "nginx" / "nginx.conf"),
                "-e", str(self.root / "log" / "error.log"), "-g", "daemon off;"]

    def service_env(self) -> dict[str, str]:
        """What every service shares: the PostgreSQL stores, Redis, the balanced internal URLs."""
        env = dict(self.env)
        env.update(
            TRACKER_DIALECT="postgresql", TRACKER_HOST="127.0.0.1", TRACKER_PORT=str(self.ports.postgres),
            TRACKER_DB=TRACKER_DATABASE, TRACKER_USER=DB_USER, TRACKER_PASSWORD=self.secrets.postgres_password,
            NUMECRIVAIN_DB_URL=self.database_url,
            REDIS_HOST="127.0.0.1", REDIS_PORT=str(self.ports.redis), REDIS_PASSWORD=self.secrets.redis_password,
            NUMECRIVAIN_REDIS_URL=self.redis_url,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.ports.internal_actions}/webhook",
            RASA_URL=self.internal_rasa_url,
            # Rasa pushes what a person in a handoff writes to any live portal (bot.handoff.resident_push), through
            # nginx; Redis shares it with the other portals, where the agent's console may be.
            NUMECRIVAIN_PORTAL_INTERNAL_URL=f"http://127.0.0.1:{self.ports.internal_portal}",
            NUMECRIVAIN_PUBLIC_CHAT_URL=self.env.get("NUMECRIVAIN_PUBLIC_CHAT_URL", self.public_url),
            TICKET_LOCK_LIFETIME=str(LOCK_LIFETIME_SECONDS),
            NUMECRIVAIN_ACTION_TIMEOUT_SECONDS=str(self.action_timeout + 2),
            RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL=self.env.get("TF_CPP_MIN_LOG_LEVEL", "2"), PYTHONPATH=str(PROJECT_ROOT),
        )
        if self.fake_sms_gateway:
            env.update(SMS_FAKE_GATEWAY="1", SMS_FAKE_GATEWAY_PORT=str(self.ports.sms_gateway), SMS_GATEWAY_URL="",
                       SMS_BOT_WEBHOOK_URL=f"{self.public_url}/webhooks/sms/android")
        return env

    def commands(self) -> dict[str, list[str]]:
        """Every long-running process of the stack, by name (no secret on any command line)."""
        python = str(BIN / "python")
        model = str(model_path())
        services: dict[str, list[str]] = {
            "postgres": self._postgres_command(),
            "redis": [require_program("redis-server"), str(self.root / "redis" / "redis.conf")],
        }
        for index, port in enumerate(self.ports.actions, 1):
            services[f"actions-{index}"] = [python, "-m", "bot.action_server", "--port", str(port),
                                            "--host", "127.0.0.1"]
        for index, port in enumerate(self.ports.rasa, 1):
            services[f"rasa-{index}"] = [
                python, "-m", "bot.rasa_server", "--model", model, "--port", str(port), "--interface", "127.0.0.1",
                "--enable-api", "--cors", "*", "--credentials", "credentials.yml", "--endpoints", "endpoints.prod.yml",
            ]
        for index, port in enumerate(self.ports.web, 1):
            services[f"web-{index}"] = [python, "-m", "bot.web", "--port", str(port)]
        if self.fake_sms_gateway:
            services["sms-gateway"] = [python, "-m", "devtools.fake_sms_gateway", "--port", str(self.ports.sms_gateway)]
        services["nginx"] = self._nginx_command()
        return services

    # Running ----------------------------------------------------------------------------------------------
    def _spawn(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start one process in its own group, its output appended to its own log (restarts included)."""
        log = self._logs.get(id(command))
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log or subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self._logs[id(command)] = log = (self.root / "log" / f"{name}.log").open("ab")
        self.log_files.append(log)
        self.supervisor.start(name, command, env)

    def start(self, timeout: float = 400.0) -> None:
        """Start everything, in order, and return once every process and nginx answer."""
        self.prepare()
        env = self.service_env()
        commands = self.commands()
        self._start("postgres", commands["postgres"], env)
        self._start("redis", commands["redis"], env)
        self._wait_postgres(timeout=60)
        self._create_databases()
        from bot.db import upgrade as upgrade_database

        upgrade_database(self.database_url)  # once, before the services: they find the schema ready
        for name, command in commands.items():
            if name not in ("postgres", "redis", "nginx"):
                self._start(name, command, env)
        self._start("nginx", commands["nginx"], env)
        self._watch()
        deadline = time.monotonic() + timeout
        urls = [f"http://127.0.0.1:{port}/" for port in self.ports.rasa]
        urls += [f"http://127.0.0.1:{port}/health" for port in self.ports.actions]
        urls += [f"http://127.0.0.1:{port}/healthz" for port in self.ports.web]
        urls += [f"{self.public_url}/widget/numecrivain.js"]
        for url in urls:
            if not wait_for(url, deadline):
                raise TimeoutError(f"{url} did not answer in {timeout:.0f} s (logs: {self.root / 'log'})")

    def _watch(self) -> None:
        def loop() -> None:
            while not self._stop_watching.wait(0.3):
                try:
                    self.supervisor.check()
                except Exception as exc:  # GaveUpError: say it; the stack owner sees the service down
                    print(f"Numécrivain prod: {exc}", file=sys.stderr, flush=True)
                    return

        self._watcher = threading.Thread(target=loop, name="prod-supervisor", daemon=True)
        self._watcher.start()

    def _wait_postgres(self, timeout: float) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=self.ports.postgres, user=DB_USER,
                                 password=self.secrets.postgres_password, dbname="postgres", connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def _create_databases(self) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.ports.postgres, user=DB_USER,
                                      password=self.secrets.postgres_password, dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                for name in (TRACKER_DATABASE, PROJECT_DATABASE):
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cursor.fetchone() is None:
                        cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def pid(self, name: str) -> int:
        return self.supervisor.pid(name)

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        """Kill one process (its whole group); the supervisor starts it again after its backoff."""
        os.killpg(self.supervisor.pid(name), signum)

    def hold_down(self, name: str, signum: int = signal.SIGKILL) -> None:
        """Stop one process and keep it stopped (no restart) until `release`; SIGSTOP freezes it instead."""
        child = self.supervisor.children[name]
        if signum != signal.SIGSTOP:
            child.restart_at = math.inf  # the supervisor skips a child whose restart is pending
        os.killpg(child.process.pid, signum)
        if signum != signal.SIGSTOP:
            child.process.wait(timeout=60)  # down for real (Redis answers while it saves on SIGTERM)

    def release(self, name: str) -> None:
        """Let a held process run again: a frozen one continues, a stopped one is restarted now."""
        child = self.supervisor.children[name]
        if child.restart_at == math.inf:
            child.process.wait()
            child.restart_at = 0.0
        else:
            os.killpg(child.process.pid, signal.SIGCONT)

    def reload_nginx(self) -> None:
        """nginx re-reads its configuration; old workers finish their requests (SIGHUP to the master)."""
        os.kill(self.supervisor.pid("nginx"), signal.SIGHUP)

    def stop(self) -> None:
        """Stop watching, then SIGTERM every process group (SIGKILL after 10 s)."""
        self._stop_watching.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self.supervisor.stop()
        for log in self.log_files:
            log.close()


def wait_for(url: str, deadline: float) -> bool:
    """Poll a URL until it answers (any HTTP status) or the deadline passes."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.5)
    return False
