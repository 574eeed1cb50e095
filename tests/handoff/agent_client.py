"""An agent driving the console API over real HTTP with requests (login form, CSRF header)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Any

import requests

from bot.paths import PROJECT_ROOT


def create_agent(env: dict[str, str], name: str, password: str, display_name: str | None = None,
                 role: str | None = None) -> None:
    """Create an account with the CLI, as `make agent NAME=... [DISPLAY_NAME=...] [ROLE=admin]` does (password on
    stdin)."""
    options = [*(["--display-name", display_name] if display_name else []), *(["--role", role] if role else [])]
    result = subprocess.run([sys.executable, "-m", "bot.handoff.accounts", "create", name, *options],
                            input=password + "\n", capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
                            timeout=120, check=False)
    assert result.returncode == 0 or "existe déjà" in result.stderr, result.stderr


class AgentClient:
    """One logged-in agent."""

    def __init__(self, web_url: str, name: str, password: str) -> None:
        self.web_url = web_url
        self.http = requests.Session()
        page = self.http.get(f"{web_url}/agents/login", timeout=10).text
        form_csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert form_csrf is not None, "the login form carries its CSRF token"
        token = form_csrf.group(1)
        resp = self.http.post(f"{web_url}/agents/login", data={"csrf": token, "name": name, "password": password},
                              timeout=30)
        assert resp.status_code == 200 and "Console" in resp.text, resp.status_code
        console_csrf = re.search(r'id="csrf" data-token="([^"]+)"', resp.text)
        assert console_csrf is not None, "the console carries its CSRF token"
        self.csrf = console_csrf.group(1)

    def get(self, path: str) -> dict[str, Any]:
        resp = self.http.get(f"{self.web_url}{path}", timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.http.post(f"{self.web_url}{path}", json=body or {}, headers={"X-CSRF-Token": self.csrf},
                              timeout=30)

    def set_available(self, available: bool) -> None:
        assert self.post("/agents/api/presence", {"available": available}).status_code == 200

    def find_waiting(self, marker: str, timeout: float = 30) -> str:
        """The public id of the waiting conversation whose transcript contains marker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.get("/agents/api/queue")["waiting"]:
                messages = self.get(f"/agents/api/requests/{item['id']}")["messages"]
                if any(marker in m["text"] for m in messages):
                    return str(item["id"])
            time.sleep(0.3)
        raise AssertionError(f"no waiting conversation mentions {marker!r}")

    def transcript(self, request_id: str) -> list[dict[str, Any]]:
        return self.get(f"/agents/api/requests/{request_id}")["messages"]
