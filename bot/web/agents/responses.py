"""The replies of the agents' desk: JSON, pages from templates, CSV downloads, cookies; always with its headers."""

from __future__ import annotations

from typing import Any

from sanic import response

from bot.handoff.config import HandoffConfig
from bot.web.templating import render

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # with no-referrer, Chromium sends "Origin: null" on form posts
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
SSE_HEADERS = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}  # nginx must pass events on at once


def error(message: str, status: int, **extra: Any) -> response.HTTPResponse:
    """A refusal the console shows as is (French for agents, English for the internal hooks)."""
    return response.json({"error": message, **extra}, status=status, headers=SECURITY_HEADERS)


def json_reply(body: Any, status: int = 200) -> response.HTTPResponse:
    """A JSON answer with the console's security headers."""
    return response.json(body, status=status, headers=SECURITY_HEADERS)


def page(template: str, status: int = 200, **context: Any) -> response.HTTPResponse:
    """A page of bot/web/templates/agents/, autoescaped."""
    return response.html(render(f"agents/{template}", **context), status=status, headers=SECURITY_HEADERS)


def redirect(to: str, status: int = 302) -> response.HTTPResponse:
    """A redirect that keeps the console's headers (no caching, no framing)."""
    return response.redirect(to, status=status, headers=SECURITY_HEADERS)


def csv_download(text: str, filename: str) -> response.HTTPResponse:
    """A CSV file the browser saves under `filename`."""
    return response.text(text, content_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


def set_cookie(resp: response.HTTPResponse, name: str, value: str, config: HandoffConfig, path: str = "/") -> None:
    """HttpOnly and SameSite=Strict always; Secure when the configuration asks for it."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    if config.cookie_secure:
        cookie["secure"] = True


def delete_cookie(resp: response.HTTPResponse, name: str, path: str = "/") -> None:
    """Tell the browser to forget a cookie at once."""
    resp.cookies[name] = ""
    resp.cookies[name]["max-age"] = 0
    resp.cookies[name]["path"] = path
