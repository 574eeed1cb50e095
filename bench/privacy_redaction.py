"""How long one hostile message blocks Rasa's event loop while the tracker store redacts it.

    .venv/bin/python bench/privacy_redaction.py            # 50,000-character "xxxx…x@", old and new redaction
    .venv/bin/python bench/privacy_redaction.py --chars 20000

The tracker store runs in Rasa's event loop, so every other conversation waits while it works. A second user is
simulated by a coroutine that wakes every 10 ms: its worst delay is the latency that user would see added.
The old redaction (phonenumbers' matcher + the `[\\w.+-]+@...` e-mail pattern) is kept here only as a reference.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import phonenumbers  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from bot.privacy import redact_personal_data  # noqa: E402
from bot.tracker_store import RedactingSQLTrackerStore  # noqa: E402

OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def old_redaction(text: str) -> str:
    """The redaction this project used before (quadratic on a long run of word characters)."""
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "FR",
                                                                        leniency=phonenumbers.Leniency.POSSIBLE)]
    for start, end in reversed(spans):
        text = text[:start] + "[téléphone masqué]" + text[end:]
    return OLD_EMAIL.sub("[e-mail masqué]", text)


async def second_user_delay(work: asyncio.Future) -> float:
    """The worst lateness of a 10 ms timer while `work` runs in the same loop."""
    worst = 0.0
    while not work.done():
        expected = time.perf_counter() + 0.01
        await asyncio.sleep(0.01)
        worst = max(worst, time.perf_counter() - expected)
    return worst


async def measure(redact: Callable[..., str], text: str, database: Path) -> tuple[float, float]:
    """(seconds to save one message, worst delay of another user meanwhile)."""
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker("bench", slots=[])
    tracker.update(ActionExecuted("action_listen"))
    # Rasa 3.6 names NLUPredictionData's keys with constants, which mypy cannot read: "text" looks unknown.
    tracker.update(UserUttered(text, {"name": "nlu_fallback", "confidence": 1.0},
                               parse_data={"text": text}))  # type: ignore[arg-type]
    import bot.privacy.redaction as redaction

    original = redaction.redact_personal_data
    redaction.redact_personal_data = redact
    try:
        started = time.perf_counter()
        save = asyncio.ensure_future(store.save(tracker))
        delay = await second_user_delay(save)
        await save
        return time.perf_counter() - started, delay
    finally:
        redaction.redact_personal_data = original


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=50_000)
    args = parser.parse_args()
    text = "x" * args.chars + "@"
    with tempfile.TemporaryDirectory() as folder:
        for label, redact in (("before (old patterns)", old_redaction), ("after (RE2)", redact_personal_data)):
            seconds, delay = asyncio.run(measure(redact, text, Path(folder) / f"{label[:5]}.db"))
            print(f"{label:22} {args.chars:>7} chars: save {seconds:7.3f} s, second user delayed {delay:7.3f} s")


if __name__ == "__main__":
    main()
