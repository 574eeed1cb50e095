"""Place results of the places finder through the SMS renderer: GSM-7 and two segments for every commune."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401
import pytest

from bot.channels.sms.render import HUMAN_LINE, render_messages
from bot.db import make_engine, metadata
from bot.gsm7 import segment_count
from bot.paths import KNOWLEDGE_DIR

places_render = pytest.importorskip("bot.places.render", reason="the places finder (bot.places) is not there yet")
from bot.places import store as places_store  # noqa: E402
from bot.places.answer import answer_places_request  # noqa: E402
from bot.places.importer import DEFAULT_PLACES_CSV, import_places  # noqa: E402
from bot.places.model import Need  # noqa: E402
from bot.places.search import PlaceIndex, SearchCriteria  # noqa: E402

FIXED_NOW = datetime(2026, 3, 10, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday morning


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> PlaceIndex:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('places') / 'places.db'}")
    metadata.create_all(engine)
    import_places(DEFAULT_PLACES_CSV, engine)
    return PlaceIndex(places_store.load_places(engine))


def communes() -> list[str]:
    with (KNOWLEDGE_DIR / "communes.csv").open(encoding="utf-8") as handle:
        return [row["nom"] for row in csv.DictReader(handle)]


def sms_of(answer: Any) -> list[str]:
    replies = places_render.render_answer(answer, "sms")
    return list(render_messages([reply.as_dispatch_kwargs() for reply in replies]).pages)


@pytest.mark.parametrize("need", list(Need), ids=lambda n: n.value)
def test_place_results_for_every_commune_are_gsm7_in_two_segments(index: PlaceIndex, need: Need) -> None:
    for commune in communes():
        answer = answer_places_request(commune, SearchCriteria(frozenset({need})), is_answer=True,
                                       now=FIXED_NOW, index=index)
        pages = sms_of(answer)
        assert pages, commune
        for page in pages:
            page.encode("gsm03.38")  # raises if a character would force UCS-2
            assert segment_count(page) <= 2, (commune, page)
        assert pages[0].endswith(HUMAN_LINE)
