"""Check the knowledge base before a content change goes live (`make check-content`).

    python -m bot.knowledge.check             # schema, review dates, SMS texts, NLU intents and rules
    python -m bot.knowledge.check --links     # also official links (only when a network is reachable)
    python -m bot.knowledge.check --reports   # the errors reported by town-hall secretariats
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge.loader import KnowledgeError, load_procedures
from bot.knowledge.model import Procedure
from bot.paths import DATA_DIR, PROCEDURES_DIR

REVIEW_MAX_DAYS = 365
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


def check_review_dates(procedures: Iterable[Procedure], today: date) -> list[Problem]:
    """Entries whose content was not checked for more than 12 months, or dated in the future."""
    problems = []
    for procedure in procedures:
        age = (today - procedure.checked).days
        where = f"{procedure.source_file} {procedure.id}"
        if age > REVIEW_MAX_DAYS:
            problems.append(Problem(where, f"not reviewed for {age} days (checked {procedure.checked}): "
                                           "check the content and update `checked`"))
        elif age < 0:
            problems.append(Problem(where, f"`checked` is in the future ({procedure.checked})"))
    return problems


def check_sms(procedures: Iterable[Procedure]) -> list[Problem]:
    """SMS texts must be pure GSM-7 and fit in two segments."""
    problems = []
    for procedure in procedures:
        where = f"{procedure.source_file} {procedure.id}"
        if not is_gsm7(procedure.sms):
            bad = sorted({c for c in procedure.sms if not is_gsm7(c)})
            problems.append(Problem(where, f"sms has characters outside GSM-7: {' '.join(bad)}"))
        elif segment_count(procedure.sms) > SMS_MAX_SEGMENTS:
            segments = segment_count(procedure.sms)
            problems.append(Problem(where, f"sms needs {segments} segments (max {SMS_MAX_SEGMENTS})"))
    return problems


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
    intents = set()
    for rule in _yaml(rules_file).get("rules") or []:
        steps = rule.get("steps") or [] if isinstance(rule, dict) else []
        for current, following in itertools.pairwise(steps):
            if isinstance(current, dict) and isinstance(following, dict) and following.get("action") == ANSWER_ACTION:
                intents.add(current.get("intent"))
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


def network_available(host: str = "www.service-public.fr", port: int = 443, timeout: float = 3.0) -> bool:
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
        for link in procedure.links:
            owners.setdefault(link.url, []).append(f"{procedure.source_file} {procedure.id}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = dict(zip(owners, pool.map(_link_status, owners), strict=False))
    return [Problem(", ".join(owners[url]), f"dead link {url}: {status}") for url, status in statuses.items() if status]


def print_reports(show_all: bool) -> int:
    """List the errors reported by secretariats (open ones, or all)."""
    from bot.secretariat.reports import list_reports
    from bot.secretariat.store import secretariat_engine

    reports = list_reports(secretariat_engine(), status=None if show_all else "open")
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
    args = parser.parse_args(argv)
    if args.close_report is not None:
        from bot.secretariat.reports import close_report
        from bot.secretariat.store import secretariat_engine

        closed = close_report(secretariat_engine(), args.close_report)
        print(f"Report {args.close_report} closed." if closed else f"No open report {args.close_report}.")
        return 0 if closed else 1
    if args.reports:
        return print_reports(args.all)
    procedures, problems = check_schema(args.procedures_dir)
    entries = list(procedures.values())
    problems += check_review_dates(entries, args.today or date.today())
    problems += check_sms(entries)
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
