"""The portal's headers and cookies over real HTTP, as a browser behind the reverse proxy receives them.

Before: no HSTS, no security headers on most responses, and the agent cookie without `Secure` unless
NUMECRIVAIN_COOKIE_SECURE=1 was remembered.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
import requests

from tests.conftest import Stack

pytestmark = pytest.mark.stack

PAGES = ["/", "/agents/login", "/secretariat", "/healthz", "/widget/numecrivain.js", "/api/v1/me",
         "/no-such-page"]
PUBLIC_HOST = "numecrivain.lillemetropole.fr"


@pytest.mark.parametrize("path", PAGES)
def test_every_portal_response_carries_the_security_headers(stack: Stack, path: str) -> None:
    response = requests.get(f"{stack.web_url}{path}", timeout=10, allow_redirects=False)
    assert response.status_code < 500
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15_552_000  # 180 days
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"no-referrer", "same-origin", "strict-origin-when-cross-origin"}
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    expected_corp = "cross-origin" if path.startswith("/widget/") else "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == expected_corp


def login_cookie(stack: Stack, headers: dict[str, str]) -> SimpleCookie:
    response = requests.get(f"{stack.web_url}/agents/login", headers=headers, timeout=10)
    assert response.status_code == 200
    cookie = SimpleCookie()
    cookie.load(response.headers["Set-Cookie"])
    assert cookie, "the login form sets its CSRF cookie"
    return cookie


@pytest.mark.parametrize("headers", [{"Host": PUBLIC_HOST},
                                     {"Host": "localhost", "X-Forwarded-Proto": "https"}],
                         ids=["public_host", "proxy_rewrote_host"])
def test_cookies_are_secure_unless_on_localhost(stack: Stack, headers: dict[str, str]) -> None:
    for morsel in login_cookie(stack, headers).values():
        assert morsel["secure"] is True
        assert morsel["httponly"] is True


def test_cookies_work_over_plain_http_on_localhost(stack: Stack) -> None:
    for morsel in login_cookie(stack, {}).values():
        assert not morsel["secure"]
