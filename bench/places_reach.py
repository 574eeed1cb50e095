"""Places always reachable: over the 95 MEL communes, how often "call" comes with a number, places per SMS.

Run: .venv/bin/python bench/places_reach.py   (Tuesday 10:00, the shipped 38 places, no filter)
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.knowledge.contacts import phone_help
from bot.paths import KNOWLEDGE_DIR
from bot.places.answer import answer_places_request
from bot.places.hours import PARIS
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.render import render_answer
from bot.places.search import PlaceIndex, SearchCriteria
from bot.replies import SMS_PAGE_BREAK

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
PHONE = re.compile(r"\b0\d( \d\d){4}\b|" + re.escape(phone_help().phone or "-"))  # a place's or the help line
ENTRY = re.compile(r"^\d\) ", re.M)


def main() -> None:
    """Print the figures."""
    index = PlaceIndex(parse_places_file(DEFAULT_PLACES_CSV)[0])
    with (KNOWLEDGE_DIR / "communes.csv").open(encoding="utf-8") as handle:
        communes = [row["nom"] for row in csv.DictReader(handle)]
    first_sms, all_sms = [], []
    calls = {"web": [0, 0], "sms": [0, 0]}
    for commune in communes:
        answer = answer_places_request(commune, SearchCriteria(), is_answer=True, now=NOW, index=index)
        sms = render_answer(answer, "sms")[0].text
        first_sms.append(len(ENTRY.findall(sms.split(SMS_PAGE_BREAK)[0])))
        all_sms.append(len(ENTRY.findall(sms)))
        for line in sms.splitlines():
            if "appeler" in line:
                calls["sms"][0] += 1
                calls["sms"][1] += bool(PHONE.search(line.split("appeler", 1)[1]))
        for line in render_answer(answer, "rest")[0].text.splitlines():
            if re.search(r"appel|renseignez", line, re.I):
                calls["web"][0] += 1
                calls["web"][1] += bool(PHONE.search(line))
    for channel, (said, numbered) in calls.items():
        print(f"{channel}: {said} lines say to call, {numbered} give a number")
    print(f"places in the first SMS: mean {statistics.mean(first_sms):.2f}; "
          f"with PLUS: mean {statistics.mean(all_sms):.2f}")


if __name__ == "__main__":
    main()
