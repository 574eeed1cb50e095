"""The nginx configuration rendered from deploy/nginx/: valid for nginx itself, every process listed, nothing open."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.prod.stack import ProdPorts, render_nginx, require_program

pytestmark = pytest.mark.prod

PORTS = ProdPorts(public=18000, internal_rasa=15004, internal_actions=15054, postgres=15433, redis=16380,
                  rasa=(15005, 15006, 15007), actions=(15055, 15056), web=(18080, 18081), sms_gateway=19090,
                  internal_portal=18079)


def rendered(tmp_path: Path) -> Path:
    for name in ("run", "log", "nginx/tmp"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    config = tmp_path / "nginx" / "nginx.conf"
    config.write_text(render_nginx(PORTS, tmp_path), encoding="utf-8")
    return config


def test_rendered_configuration_is_accepted_by_nginx(tmp_path: Path) -> None:
    config = rendered(tmp_path)
    check = subprocess.run([require_program("nginx"), "-t", "-p", str(tmp_path / "nginx"), "-c", str(config),
                            "-e", str(tmp_path / "log" / "error.log")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def test_every_process_is_balanced_and_internal_servers_listen_on_localhost_only(tmp_path: Path) -> None:
    text = rendered(tmp_path).read_text(encoding="utf-8")
    for port in (*PORTS.rasa, *PORTS.actions, *PORTS.web):
        assert f"server 127.0.0.1:{port} " in text
    assert text.count("server 127.0.0.1:15005 ") == 2  # any process for WebSockets, sticky for long-polling
    assert "listen 127.0.0.1:15004;" in text and "listen 127.0.0.1:15054;" in text
    assert "listen 127.0.0.1:18079;" in text  # Rasa's pushes reach any live portal, never a fixed one
    assert "listen 127.0.0.1:18000;" in text
    assert "ip_hash;" in text and "proxy_set_header Upgrade $http_upgrade;" in text
    assert "access_log off;" in text and "{{" not in text


def test_public_server_has_the_public_routes_and_404_for_the_rest(tmp_path: Path) -> None:
    text = rendered(tmp_path).read_text(encoding="utf-8")
    start, end = text.index(f"listen 127.0.0.1:{PORTS.public};"), text.index(f"listen 127.0.0.1:{PORTS.internal_rasa};")
    public = text[start:end]
    locations = [line.strip() for line in public.splitlines() if line.strip().startswith("location")]
    assert locations == [
        "location /socket.io/ {", "location = /webhooks/rest/webhook {",
        "location ~ ^/webhooks/sms/(android|twilio)$ {", "location = / {",
        "location ~ ^/(widget/|agents(/|$)|api/handoff/|api/v1/|secretariat(/|$)) {", "location / {",
    ]
    assert "return 404;" in public
    socket_io = public[public.index("location /socket.io/"):public.index("location = /webhooks/rest/webhook")]
    # A location that sets one header inherits none: the client's address must still reach the rate limits.
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in socket_io and "Host $host" in socket_io
