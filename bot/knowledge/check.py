"""Check the knowledge base before a content change goes live (`make check-content`).

    python -m bot.knowledge.check             # schema, dates, sources, SMS, URLs, contacts, NLU intents and rules
    python -m bot.knowledge.check --links     # also official links (only when a network is reachable)
    python -m bot.knowledge.check --reports   # the errors reported by town-hall secretariats
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import itertools
import re
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge.contacts import (
    CONTACTS_FILE,
    ContactError,
    expand,
    literal_phone_numbers,
    load_contacts,
    placeholders,
    short_url,
)
from bot.knowledge.loader import KnowledgeError, load_procedures
from bot.knowledge.model import Contact, Procedure
from bot.knowledge.schema import FACT_FIELDS, SMS_MAX_CHARS
from bot.paths import DATA_DIR, KNOWLEDGE_DIR, PROCEDURES_DIR

REVIEW_MAX_MONTHS = 12
OLD_DOMAINS = frozenset({"www.service-public.fr", "service-public.fr"})
OLD_DOMAIN_IN_TEXT = re.compile(r"(?<![\w.-])(?:www\.)?service-public\.fr(?![\w])", re.IGNORECASE)
SHEET_URL = re.compile(r"service-public\.(?:gouv\.)?fr/(?:particuliers|professionnels-entreprises|associations)"
                       r"/vosdroits/([FNR]\d{1,6})\b")
# DILA's list (2021), then the sheets we added after reading them (id, title, url, seen).
SHEET_LISTS = ("service_public_fiches.csv", "service_public_fiches_ajouts.csv")
SMS_MAX_SEGMENTS = 2
ANSWER_ACTION = "action_answer_procedure"
LINK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "Numecrivain-content-check/1.0 (+https://www.lillemetropole.fr)"


@dataclass(frozen=True)
class Problem:
    """One thing a content editor must fix, with the file and entry at fault."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_schema(directory: Path = PROCEDURES_DIR) -> tuple[dict[str, Procedure], list[Problem]]:
    """Load every file on its own (one bad file does not hide the others), then all together for duplicates."""
    files = sorted(directory.glob("*.yml"))
    problems: list[Problem] = []
    good_files: list[Path] = []
    for path in files:
        try:
            load_procedures([path])
            good_files.append(path)
        except KnowledgeError as exc:
            problems.extend(Problem(path.name, line) for line in str(exc).splitlines())
    if not files:
        problems.append(Problem(str(directory), "no procedure file (*.yml)"))
    procedures: dict[str, Procedure] = {}
    try:
        procedures = load_procedures(good_files)
    except KnowledgeError as exc:
        problems.extend(Problem("procedures", line) for line in str(exc).splitlines())
    return procedures, problems


def _where(procedure: Procedure) -> str:
    return f"{procedure.source_file} {procedure.id}"


def _months_later(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, 28))


def check_review_dates(procedures: Iterable[Procedure], today: date) -> list[Problem]:
    """Entries (or volatile sources) past their review date, review dates too far ahead, dates in the future."""
    problems = []
    for procedure in procedures:
        where = _where(procedure)
        reference = procedure.verified or procedure.written
        if today > procedure.review_by:
            problems.append(Problem(where, f"past its review date ({procedure.review_by}): re-check the facts "
                                           "against the sources, then update `verified` and `review_by`"))
        if procedure.review_by > _months_later(reference, REVIEW_MAX_MONTHS):
            problems.append(Problem(where, f"`review_by` {procedure.review_by} is more than {REVIEW_MAX_MONTHS} "
                                           f"months after {'verified' if procedure.verified else 'written'} "
                                           f"({reference})"))
        for label, day in (("written", procedure.written), ("verified", procedure.verified)):
            if day is not None and day > today:
                problems.append(Problem(where, f"`{label}` is in the future ({day})"))
        if procedure.verified is not None and procedure.verified < procedure.written:
            problems.append(Problem(where, f"`verified` ({procedure.verified}) is before `written` "
                                           f"({procedure.written}): the text changed after it was checked"))
        if procedure.verified is not None:
            for source in procedure.sources:
                if source.seen < procedure.verified and set(source.backs) & set(FACT_FIELDS):
                    problems.append(Problem(where, f"`verified` {procedure.verified} but source {source.id} was "
                                                   f"read on {source.seen}: re-read it, or remove `verified`"))
        for source in procedure.sources:
            if source.review_by is not None and today > source.review_by:
                problems.append(Problem(where, f"source {source.id} ({', '.join(source.backs) or 'no field'}) is "
                                               f"past its review date ({source.review_by})"))
            if source.seen > today:
                problems.append(Problem(where, f"source {source.id}: `seen` is in the future ({source.seen})"))
    return problems


def check_fact_sources(procedures: Iterable[Procedure]) -> list[Problem]:
    """Every fact field (steps, documents, cost, delay, offline) needs a source that backs it."""
    problems = []
    for procedure in procedures:
        for field_name in FACT_FIELDS:
            value = getattr(procedure, field_name)
            if value and not procedure.sources_for(field_name):
                problems.append(Problem(_where(procedure), f"`{field_name}` has no source: add it to the `backs` "
                                                           "of the official text that says it"))
    return problems


def check_source_ids(procedures: Iterable[Procedure]) -> list[Problem]:
    """Source ids unique within an entry; every case cites sources of its entry."""
    problems = []
    for procedure in procedures:
        ids = [source.id for source in procedure.sources]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(Problem(_where(procedure), f"source id {duplicate} is used twice"))
        for case in procedure.cases:
            for source_id in case.sources:
                if source_id not in ids:
                    problems.append(Problem(_where(procedure), f"case {case.id} cites unknown source id {source_id}"))
            if case.sms and not _has_main_link(case.sms, procedure):
                problems.append(Problem(_where(procedure), f"case {case.id}: sms lacks the main official link "
                                                           f"({short_url(procedure.main_link.url)})"))
    return problems


_URL_IN_TEXT = re.compile(r"(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/[^\s,;)]*)?)",
                          re.IGNORECASE)


def _normal_url(url: str) -> str:
    return short_url(url.strip().rstrip(".")).lower().rstrip("/")


def _has_main_link(text: str, procedure: Procedure) -> bool:
    main = _normal_url(procedure.main_link.url)
    return any(_normal_url(match.group(1)) == main for match in _URL_IN_TEXT.finditer(text))


def check_sms(procedures: Iterable[Procedure], contacts: dict[str, Contact] | None = None) -> list[Problem]:
    """SMS texts, as sent (contacts expanded): pure GSM-7, two segments at most, with the main official link."""
    problems = []
    for procedure in procedures:
        where = _where(procedure)
        texts = [("sms", procedure.sms)] + [(f"case {c.id} sms", c.sms) for c in procedure.cases if c.sms]
        for label, raw in texts:
            try:
                sms = expand(raw, contacts, sms=True)  # as sent: contacts in GSM-7, the writer's text unchanged
            except ContactError:
                continue  # reported by check_contacts_used
            if len(sms) > SMS_MAX_CHARS:
                problems.append(Problem(where, f"{label} has {len(sms)} characters once contacts are expanded "
                                               f"(max {SMS_MAX_CHARS})"))
            if not is_gsm7(sms):
                bad = sorted({c for c in sms if not is_gsm7(c)})
                problems.append(Problem(where, f"{label} has characters outside GSM-7: {' '.join(bad)}"))
            elif segment_count(sms) > SMS_MAX_SEGMENTS:
                problems.append(Problem(where, f"{label} needs {segment_count(sms)} segments (max {SMS_MAX_SEGMENTS})"))
        if not _has_main_link(procedure.sms, procedure):
            problems.append(Problem(where, f"sms lacks the main official link ({short_url(procedure.main_link.url)})"))
    return problems


def known_sheet_ids(knowledge_dir: Path = KNOWLEDGE_DIR) -> set[str]:
    """Service-public sheet ids we know exist: DILA's 2021 list plus the ones added with their title."""
    ids: set[str] = set()
    for name in SHEET_LISTS:
        path = knowledge_dir / name
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                ids |= {row["id"].strip() for row in csv.DictReader(handle) if row.get("id")}
    return ids


def _texts(procedure: Procedure) -> list[tuple[str, str]]:
    """Every text a resident reads, with the field it comes from."""
    texts = [("summary", procedure.summary), *((f"steps/{i}", t) for i, t in enumerate(procedure.steps)),
             *((f"documents/{i}", t) for i, t in enumerate(procedure.documents)), ("cost", procedure.cost),
             ("delay", procedure.delay), ("offline", procedure.offline), ("sms", procedure.sms)]
    for case in procedure.cases:
        texts += [(f"case {case.id} answer", case.answer), (f"case {case.id} sms", case.sms)]
    return texts


def _urls(procedure: Procedure) -> list[tuple[str, str]]:
    return ([(f"links/{i}", link.url) for i, link in enumerate(procedure.links)]
            + [(f"source {s.id}", s.url) for s in procedure.sources])


def check_urls(procedures: Iterable[Procedure], known_sheets: set[str]) -> list[Problem]:
    """No old service-public domain (in links, sources or texts); every cited sheet id exists."""
    problems = []
    for procedure in procedures:
        where = _where(procedure)
        for label, url in _urls(procedure):
            host = (urlparse(url).hostname or "").lower()
            if host in OLD_DOMAINS:
                problems.append(Problem(where, f"{label}: old domain {host}, use https://www.service-public.gouv.fr"))
            match = SHEET_URL.search(url)
            if match and match.group(1) not in known_sheets:
                problems.append(Problem(where, f"{label}: unknown service-public sheet {match.group(1)} (add it with "
                                               f"its title to data/knowledge/{SHEET_LISTS[-1]} once checked)"))
        for label, text in _texts(procedure):
            if OLD_DOMAIN_IN_TEXT.search(text):
                problems.append(Problem(where, f"{label}: names the old domain service-public.fr "
                                               "(now service-public.gouv.fr)"))
            for match in SHEET_URL.finditer(text):
                if match.group(1) not in known_sheets:
                    problems.append(Problem(where, f"{label}: unknown service-public sheet {match.group(1)}"))
    return problems


def check_contacts_used(procedures: Iterable[Procedure], contacts: dict[str, Contact]) -> list[Problem]:
    """Phone numbers come from contacts.yml through placeholders; placeholders name known contacts."""
    problems = []
    for procedure in procedures:
        where = _where(procedure)
        for label, text in _texts(procedure):
            for number in literal_phone_numbers(text, contacts):
                problems.append(Problem(where, f"{label}: phone number {number!r} written literally: use a "
                                               "placeholder such as {contact:ID} (data/knowledge/contacts.yml)"))
            for kind, contact_id in placeholders(text):
                contact = contacts.get(contact_id)
                if contact is None:
                    problems.append(Problem(where, f"{label}: unknown contact id {contact_id!r}"))
                elif kind == "phone" and contact.phone is None:
                    problems.append(Problem(where, f"{label}: {{phone:{contact_id}}} but {contact_id} has no "
                                                   "confirmed number: use {contact:ID}"))
    return problems


def entry_problems(entries: list[Procedure], contacts: dict[str, Contact], today: date,
                   knowledge_dir: Path = KNOWLEDGE_DIR) -> list[Problem]:
    """Every rule on the entries themselves: dates, sources, SMS, URLs and sheet ids, contacts."""
    return [*check_review_dates(entries, today), *check_fact_sources(entries), *check_source_ids(entries),
            *check_sms(entries, contacts), *check_urls(entries, known_sheet_ids(knowledge_dir)),
            *check_contacts_used(entries, contacts)]


def texts_of(procedure: Procedure) -> list[tuple[str, str]]:
    """Every text a resident reads in an entry, with the field it comes from."""
    return _texts(procedure)


def check_contacts_file(path: Path, today: date) -> tuple[dict[str, Contact], list[Problem]]:
    """contacts.yml: schema, review dates of contacts and of their sources."""
    try:
        contacts = load_contacts(path)
    except ContactError as exc:
        return {}, [Problem(path.name, line) for line in str(exc).splitlines()]
    problems = []
    for contact in contacts.values():
        where = f"{path.name} {contact.id}"
        if today > contact.review_by:
            problems.append(Problem(where, f"past its review date ({contact.review_by})"))
        for source in contact.sources:
            if source.review_by is not None and today > source.review_by:
                problems.append(Problem(where, f"source {source.id} is past its review date ({source.review_by})"))
        if contact.phone and not any("phone" in s.backs for s in contact.sources):
            problems.append(Problem(where, "`phone` has no source that backs it"))
        if contact.hours and not any("hours" in s.backs for s in contact.sources):
            problems.append(Problem(where, "`hours` has no source that backs it"))
    return contacts, problems


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def training_examples(nlu_dir: Path) -> dict[str, int]:
    """Intent -> number of training examples in the procedure NLU files."""
    counts: dict[str, int] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        for item in _yaml(path).get("nlu") or []:
            if isinstance(item, dict) and isinstance(item.get("intent"), str):
                lines = str(item.get("examples") or "").splitlines()
                examples = [line for line in lines if line.strip().startswith("- ")]
                counts[item["intent"]] = counts.get(item["intent"], 0) + len(examples)
    return counts


def answered_intents(rules_file: Path) -> set[str]:
    """Intents that a rule answers with action_answer_procedure."""
    intents: set[str] = set()
    for rule in _yaml(rules_file).get("rules") or []:
        steps = rule.get("steps") or [] if isinstance(rule, dict) else []
        for current, following in itertools.pairwise(steps):
            if isinstance(current, dict) and isinstance(following, dict) and following.get("action") == ANSWER_ACTION:
                intent = current.get("intent")
                if isinstance(intent, str):  # a rule may answer after an action step rather than an intent
                    intents.add(intent)
    return intents


def check_dialogue(procedures: Iterable[Procedure], data_dir: Path = DATA_DIR) -> list[Problem]:
    """Every procedure needs training examples and a rule, or the bot can never answer it."""
    examples = training_examples(data_dir / "nlu" / "procedures")
    rules = answered_intents(data_dir / "rules" / "procedures.yml")
    problems = []
    for procedure in procedures:
        where = f"{procedure.source_file} {procedure.id}"
        if not examples.get(procedure.intent):
            problems.append(Problem(where, f"no training examples for intent {procedure.intent} "
                                           "in data/nlu/procedures/"))
        if procedure.intent not in rules:
            problems.append(Problem(where, f"no rule '{procedure.intent} -> {ANSWER_ACTION}' "
                                           "in data/rules/procedures.yml"))
    return problems


def network_available(host: str = "www.service-public.gouv.fr", port: int = 443, timeout: float = 3.0) -> bool:
    """True when the official sites can be reached from here (name resolution and a TCP connection)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _link_status(url: str) -> str | None:
    """None when the page answers, else why it is dead."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=LINK_TIMEOUT_SECONDS):
                return None
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some sites refuse HEAD: try GET
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return f"unreachable ({getattr(exc, 'reason', exc)})"
    return None


def check_links(procedures: Iterable[Procedure]) -> list[Problem]:
    """Official links that answer with an error (4xx/5xx) or not at all."""
    owners: dict[str, list[str]] = {}
    for procedure in procedures:
        for url in {url for _, url in _urls(procedure)}:
            owners.setdefault(url, []).append(f"{procedure.source_file} {procedure.id}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = dict(zip(owners, pool.map(_link_status, owners), strict=False))
    return [Problem(", ".join(owners[url]), f"dead link {url}: {status}") for url, status in statuses.items() if status]


def print_reports(show_all: bool) -> int:
    """List the errors reported by secretariats (open ones, or all)."""
    from bot.db import get_engine
    from bot.knowledge.feedback import list_reports

    reports = list_reports(get_engine(), status=None if show_all else "open")
    if not reports:
        print("No reported error." if show_all else "No open reported error.")
        return 0
    print(f"{len(reports)} reported error(s):")
    for report in reports:
        print(f"- #{report.id} [{report.status}] {report.created_at:%Y-%m-%d %H:%M} {report.procedure_id} "
              f"— {report.reporter} ({report.commune})")
        for line in report.message.splitlines():
            print(f"    {line}")
    print("Close one after fixing the entry: python -m bot.knowledge.check --close-report N")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The content check CLI: exit code 1 when something must be fixed."""
    parser = argparse.ArgumentParser(prog="python -m bot.knowledge.check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", action="store_true", help="check official links (needs a network)")
    parser.add_argument("--reports", action="store_true", help="list errors reported by secretariats")
    parser.add_argument("--all", action="store_true", help="with --reports: include closed reports")
    parser.add_argument("--close-report", type=int, metavar="N", help="mark reported error N as handled")
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)  # fixed clock for tests
    parser.add_argument("--procedures-dir", type=Path, default=PROCEDURES_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--contacts", type=Path, default=CONTACTS_FILE, help=argparse.SUPPRESS)
    parser.add_argument("--knowledge-dir", type=Path, default=KNOWLEDGE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.close_report is not None:
        from bot.db import get_engine
        from bot.knowledge.feedback import close_report

        closed = close_report(get_engine(), args.close_report)
        print(f"Report {args.close_report} closed." if closed else f"No open report {args.close_report}.")
        return 0 if closed else 1
    if args.reports:
        return print_reports(args.all)
    today = args.today or date.today()
    procedures, problems = check_schema(args.procedures_dir)
    entries = list(procedures.values())
    contacts, contact_problems = check_contacts_file(args.contacts, today)
    problems += contact_problems
    problems += entry_problems(entries, contacts, today, args.knowledge_dir)
    problems += check_dialogue(entries, args.data_dir)
    if args.links:
        if network_available():
            problems += check_links(entries)
        else:
            print("Links not checked: no network here (run with --links where the Internet is reachable).")
    for problem in problems:
        print(f"- {problem}")
    status = f"{len(entries)} procedures checked, {len(problems)} problem(s)."
    print(status if problems else f"{status} Everything is in order.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
