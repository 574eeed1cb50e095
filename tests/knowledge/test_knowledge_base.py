"""The shipped knowledge base: complete, official, plain, SMS-ready, wired to the NLU."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge import get_knowledge_base
from bot.paths import DATA_DIR, KNOWLEDGE_DIR, PROJECT_ROOT

REQUIRED_TOPICS = {
    "identity_card", "passport", "lost_papers", "birth_certificate", "marriage_pacs", "death", "census_jdc",
    "electoral_roll", "voting_proxy", "vehicle_registration", "driving_licence", "housing_aid", "rsa",
    "activity_bonus", "health_card", "health_insurance_css", "retirement", "job_seeker", "disability",
    "elderly_care", "income_tax", "tax_account", "energy_voucher", "social_housing", "moving_house",
    "home_renovation", "hosting_certificate", "household_waste", "bulky_waste", "public_transport",
    "school_enrolment", "planning_permission", "email_address", "franceconnect", "online_scams",
    "digital_skills", "refurbished_computer", "criminal_record", "residence_permit", "send_documents",
}
# Official bodies, and the national digital-inclusion partners the State itself points to.
OFFICIAL_SUFFIXES = (
    ".gouv.fr", "service-public.fr", "caf.fr", "ameli.fr", "francetravail.fr", "lillemetropole.fr",
    "ilevia.fr", "lenord.fr", "info-retraite.fr", "lassuranceretraite.fr", "justice.fr", "majdc.fr",
    "pix.fr", "solidarite-numerique.fr", "emmaus-connect.org",
)

KB = get_knowledge_base()
PROCEDURES = list(KB)


def _nlu_examples() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in (DATA_DIR / "nlu").rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in block:
                counts[block["intent"]] += sum(1 for line in block["examples"].splitlines() if line.strip())
    return counts


def test_all_forty_topics_are_covered() -> None:
    assert {p.id for p in PROCEDURES} >= REQUIRED_TOPICS
    assert len(PROCEDURES) >= 40


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_links_are_https_and_official(procedure) -> None:
    for link in procedure.links:
        parsed = urlparse(link.url)
        assert parsed.scheme == "https"
        assert parsed.hostname and parsed.hostname.endswith(OFFICIAL_SUFFIXES), link.url


def test_service_public_links_point_to_known_sheets() -> None:
    known: set[str] = set()
    for name in ("service_public_fiches.csv", "service_public_fiches_ajouts.csv"):
        with (KNOWLEDGE_DIR / name).open(encoding="utf-8") as handle:
            known |= {row["id"] for row in csv.DictReader(handle)}
    cited = {
        match.group(1)
        for procedure in PROCEDURES
        for link in procedure.links
        if (match := re.search(r"service-public\.(?:gouv\.)?fr/particuliers/vosdroits/(F\d+)", link.url))
    }
    assert cited, "the knowledge base should cite service-public.fr sheets"
    # Every cited sheet is in DILA's 2021 list or in our list of added sheets, with the version read.
    assert cited <= known, sorted(cited - known)


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_sms_text_is_gsm7_and_short(procedure) -> None:
    assert is_gsm7(procedure.sms)
    assert len(procedure.sms) <= 300
    assert segment_count(procedure.sms) <= 2


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_entry_is_plain_and_complete(procedure) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", procedure.summary.strip()) if s]
    assert len(sentences) == 2, procedure.summary
    assert all(len(step) <= 220 for step in procedure.steps), "a step should be one short idea"
    assert procedure.offline and "internet" not in procedure.offline.lower()[:12]
    assert procedure.written.year >= 2026


def test_every_procedure_has_an_intent_a_rule_and_enough_examples() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = (DATA_DIR / "rules" / "procedures.yml").read_text(encoding="utf-8")
    examples = _nlu_examples()
    for procedure in PROCEDURES:
        assert procedure.intent in domain["intents"]
        assert f"intent: {procedure.intent}\n" in rules
        assert examples[procedure.intent] >= 15, procedure.intent


def test_every_intent_has_fifteen_examples() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    examples = _nlu_examples()
    thin = {intent: examples[intent] for intent in domain["intents"] if examples[intent] < 15}
    assert not thin


def test_heldout_set_is_separate_from_training() -> None:
    def texts(paths: list[Path]) -> set[str]:
        found = set()
        for path in paths:
            for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
                if "intent" not in block:
                    continue  # lookup tables and regexes are vocabularies, not training sentences
                for line in block["examples"].splitlines():
                    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip().removeprefix("- "))
                    if text:
                        found.add(text.lower())
        return found

    heldout = texts([PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"])
    assert len(heldout) >= 150
    assert not heldout & texts(list((DATA_DIR / "nlu").rglob("*.yml")))
