"""The portal's HTML pages: Jinja2 templates in bot/web/templates/, always autoescaped.

One environment for every page of the portal (agents, secretariat, widget demo), so escaping and shared
layout blocks are decided in one place; handlers pass plain data, never HTML they built themselves.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Autoescaping for .html and .html.j2; a missing variable is an error, not an empty string."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """The page `name` (a file under bot/web/templates/) filled with `context`."""
    return environment().get_template(name).render(**context)
