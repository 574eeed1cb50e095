"""Command line: `python -m bot.places import FILE` (national CSV) and `python -m bot.places search TEXT`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.places.answer import answer_places_request
from bot.places.importer import DEFAULT_PLACES_CSV, PlacesImportError, import_places
from bot.places.needs import criteria_from_text
from bot.places.render import render_answer, render_secretariat


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 1 when the file cannot be imported."""
    parser = argparse.ArgumentParser(prog="python -m bot.places", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="replace the stored places with a CSV of the national standard")
    importing.add_argument("file", nargs="?", type=Path, default=DEFAULT_PLACES_CSV)
    searching = commands.add_parser("search", help="try a search as the bot would answer it")
    searching.add_argument("text")
    searching.add_argument("--channel", default="rest")
    searching.add_argument("--json", action="store_true", help="the secretariat's full record")
    args = parser.parse_args(argv)

    if args.command == "import":
        try:
            report = import_places(args.file)
        except (PlacesImportError, OSError) as error:
            print(f"Import impossible : {error}", file=sys.stderr)
            return 1
        print(report.text())
        return 0
    answer = answer_places_request(args.text, criteria_from_text(args.text), is_answer=True)
    if args.json and answer.result is not None:
        print(json.dumps(render_secretariat(answer.result), ensure_ascii=False, indent=2))
    else:
        for reply in render_answer(answer, args.channel):
            print(reply.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
