"""The records the rest of the code sees (validated, immutable): procedures, their sources and sub-cases, contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Link:
    """An official web page, named as the user will see it."""

    title: str
    url: str


@dataclass(frozen=True)
class Source:
    """An official text we read, when we read it, and which fields of the entry it backs."""

    id: str
    url: str
    title: str
    publisher: str
    seen: date
    backs: tuple[str, ...]
    version: date | None = None
    review_by: date | None = None
    note: str = ""


@dataclass(frozen=True)
class Case:
    """A sub-case (minor, loss, renewal...) answered first when the question names it."""

    id: str
    title: str
    when: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    sms: str = ""
    ages: tuple[int, int] | None = None  # both included
    situations: tuple[str, ...] = ()  # lost, stolen, minor, adult

    def covers_age(self, age: int) -> bool:
        """True when the case has an age range and the age is in it."""
        return self.ages is not None and self.ages[0] <= age <= self.ages[1]


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
    written: date
    review_by: date
    sources: tuple[Source, ...]
    verified: date | None = None
    cases: tuple[Case, ...] = ()
    source_file: str = field(default="", compare=False)

    @property
    def intent(self) -> str:
        """The NLU intent that asks for this procedure."""
        return f"procedure_{self.id}"

    @property
    def main_link(self) -> Link:
        """The first official link: the one to show when there is room for only one."""
        return self.links[0]

    @property
    def next_review(self) -> date:
        """The earliest review date of the entry and of its volatile sources."""
        return min([self.review_by, *(s.review_by for s in self.sources if s.review_by)])

    def sources_for(self, field_name: str) -> tuple[Source, ...]:
        """The sources that back one field (cost, delay...)."""
        return tuple(s for s in self.sources if field_name in s.backs)

    def source(self, source_id: str) -> Source | None:
        """The entry's source with this id, or None."""
        return next((s for s in self.sources if s.id == source_id), None)


@dataclass(frozen=True)
class Contact:
    """A service we point residents to: its number, hours and address, each from an official source."""

    id: str
    name: str
    phone: str | None
    hours: str | None
    url: str
    review_by: date
    sources: tuple[Source, ...]
    address: str | None = None
    email: str | None = None
    note: str = ""
    unconfirmed: bool = False
    verified: date | None = None
