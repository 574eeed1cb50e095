"""A real portal process on a free port, with its own database, tokens and a stub Rasa /model/parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.future import Engine

from bot.paths import PROJECT_ROOT
from bot.secretariat.store import secretariat_engine
from bot.secretariat.tokens import Secretariat, authenticate, create_token
from bot.service_auth import rasa_api_authorised
from tests.conftest import free_port
from tests.secretariat.trackers_helper import write_tracker

STUB_RASA_TOKEN = "stub-rasa-token-long-enough-for-hs256"


def signed_in_secretariat(url: str, name: str, commune: str) -> tuple[Engine, Secretariat]:
    """The secretariat database at `url` and one mairie holding a fresh token, as the portal authenticates it."""
    engine = secretariat_engine(url)
    who = authenticate(engine, create_token(engine, name, commune))
    assert who is not None
    return engine, who


# What the trained model (models/numecrivain.tar.gz) answered for the questions the tests ask, top 3 intents.
REAL_MODEL_RANKINGS: dict[str, list[tuple[str, float]]] = {
    "pièces pour une première demande de passeport mineur": [
        ("procedure_passport", 0.99), ("procedure_bulky_waste", 0.0), ("procedure_digital_skills", 0.0)],
    "un administré a perdu son livret de famille": [
        ("nlu_fallback", 0.35), ("procedure_marriage_pacs", 0.14), ("out_of_scope", 0.14)],
    "où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing": [
        ("procedure_digital_skills", 0.89), ("find_help_nearby", 0.05), ("procedure_refurbished_computer", 0.02)],
    "combien coute un passeport pour mon fils de 12 ans": [
        ("procedure_passport", 0.97), ("procedure_digital_skills", 0.01), ("procedure_bulky_waste", 0.0)],
}


@dataclass
class StubNlu:
    """Answers /model/parse like Rasa: a fixed ranking per text, nlu_fallback otherwise; records calls."""

    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: dict(REAL_MODEL_RANKINGS))
    calls: list[str] = field(default_factory=list)

    def ranking_for(self, text: str) -> list[dict[str, Any]]:
        ranking = self.rankings.get(text, [("nlu_fallback", 0.9)])
        return [{"name": name, "confidence": confidence} for name, confidence in ranking]


def start_stub_nlu(stub: StubNlu) -> tuple[ThreadingHTTPServer, str]:
    """Serve the stub on a free port in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            headers = cast(Mapping[str, str], self.headers)  # an email Message: a mapping with a case-blind get
            if not self.path.startswith("/model/parse") or not rasa_api_authorised(headers, STUB_RASA_TOKEN):
                self.send_response(401)
                self.end_headers()
                return
            text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"]
            stub.calls.append(text)
            ranking = stub.ranking_for(text)
            body = json.dumps({"text": text, "intent": ranking[0], "intent_ranking": ranking}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@dataclass(frozen=True)
class Portal:
    """A running portal: its URL, database, a commune token and an admin token."""

    url: str
    database_url: str
    tracker_db: Path
    commune_token: str
    admin_token: str
    nlu: StubNlu

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """GET a path; (status, decoded JSON or text)."""
        return self.request("GET", path, token)

    def request(self, method: str, path: str, token: str | None = None, body: Any = None,
                raw: bytes | None = None) -> tuple[int, Any]:
        """One HTTP request with an optional Bearer token; (status, decoded JSON or text)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                status, payload = reply.status, reply.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", "replace")


def start_portal(workdir: Path, nlu_url: str, stub: StubNlu) -> tuple[subprocess.Popen[bytes], Portal]:
    """Start `python -m bot.web` with its own SQLite files; tokens are created before it starts."""
    database_url = f"sqlite:///{workdir / 'numecrivain.db'}"
    engine = secretariat_engine(database_url)
    commune_token = create_token(engine, "Mairie de Lille", "59350")
    admin_token = create_token(engine, "Conseil métropolitain du numérique", is_admin=True)
    write_tracker(workdir / "tracker.db", [])  # an empty tracker store, as after a fresh start
    port = free_port()
    env = dict(os.environ)
    env.update(NUMECRIVAIN_DB_URL=database_url, RASA_URL=nlu_url, RASA_API_TOKEN=STUB_RASA_TOKEN,
               NUMECRIVAIN_INTERNAL_TOKEN="test-internal", TRACKER_DIALECT="sqlite",
               TRACKER_DB=str(workdir / "tracker.db"), PYTHONPATH=str(PROJECT_ROOT))
    log = (workdir / "portal.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.web", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "portal.log").read_text(errors="replace")[-3000:]) from None
            time.sleep(0.3)
    return process, Portal(url, database_url, workdir / "tracker.db", commune_token, admin_token, stub)


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """One portal for the secretariat HTTP tests (stub NLU: the tests set its rankings)."""
    stub = StubNlu()
    server, nlu_url = start_stub_nlu(stub)
    process, running = start_portal(tmp_path_factory.mktemp("secretariat_portal"), nlu_url, stub)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        server.shutdown()
