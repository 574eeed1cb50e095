"""The Procedure record as the rest of the code sees it (validated, immutable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Link:
    """An official web page, named as the user will see it."""

    title: str
    url: str


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure, written once and rendered by every channel."""

    id: str
    title: str
    theme: str
    keywords: tuple[str, ...]
    summary: str
    steps: tuple[str, ...]
    documents: tuple[str, ...]
    cost: str
    delay: str
    links: tuple[Link, ...]
    offline: str
    where: tuple[str, ...]
    sms: str
    checked: date
    source_file: str = field(default="", compare=False)

    @property
    def intent(self) -> str:
        """The NLU intent that asks for this procedure."""
        return f"procedure_{self.id}"

    @property
    def main_link(self) -> Link:
        """The first official link: the one to show when there is room for only one."""
        return self.links[0]
