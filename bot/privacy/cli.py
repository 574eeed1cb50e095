"""Command line for the data protection officer and the operators.

    python -m bot.privacy purge                          # apply the retention periods now
    python -m bot.privacy export --conversation ID       # one person's data as JSON (stdout or --output FILE)
    python -m bot.privacy export --phone "06 12 34 56 78"
    python -m bot.privacy erase --phone "+33612345678"   # delete it everywhere (asks to confirm, or --yes)

Databases: NUMECRIVAIN_DB_URL and TRACKER_* as for the services, or --db-url / --tracker-url.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.db import get_engine
from bot.privacy.person import Person, erase_person, export_person
from bot.privacy.retention import RetentionPolicy, purge, tracker_engine


def _person(args: argparse.Namespace) -> Person:
    if args.phone:
        return Person.by_phone(args.phone)
    return Person.by_conversation(args.conversation)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.privacy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", help="project database (default: NUMECRIVAIN_DB_URL)")
    parser.add_argument("--tracker-url", help="tracker store (default: TRACKER_* variables)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("purge", help="delete what is past its retention period")
    for name, what in (("export", "print one person's data as JSON"), ("erase", "delete one person's data")):
        command = commands.add_parser(name, help=what)
        who = command.add_mutually_exclusive_group(required=True)
        who.add_argument("--conversation", help="conversation id (as in the agent console or the tracker)")
        who.add_argument("--phone", help="phone number, in any format (SMS conversations, callbacks)")
        if name == "export":
            command.add_argument("--output", type=Path, help="write the JSON to this file (created 0600)")
        else:
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 on a database error, 2 on bad arguments or a refused confirmation."""
    args = _parser().parse_args(argv)
    try:
        project, tracker = get_engine(args.db_url), tracker_engine(args.tracker_url)
        if args.command == "purge":
            counts = purge(policy=RetentionPolicy(), project=project, tracker=tracker)
            print(json.dumps(counts, indent=2))
            return 0
        person = _person(args)
        if args.command == "export":
            document = json.dumps(export_person(person, [project, tracker]), ensure_ascii=False, indent=2)
            if args.output:
                descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as output:
                    output.write(document + "\n")
            else:
                print(document)
            return 0
        if not args.yes:
            try:
                answer = input("Effacer définitivement toutes les données de cette personne ? (oui/non) ")
            except EOFError:  # no terminal: only --yes may erase
                answer = ""
            if answer.strip().lower() not in ("oui", "o", "yes", "y"):
                print("Rien n'a été effacé.", file=sys.stderr)
                return 2
        counts = erase_person(person, [project, tracker])
        print(json.dumps({"erased": counts}, indent=2))
        return 0
    except SQLAlchemyError as exc:
        print(f"error: database unavailable ({type(exc).__name__})", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
