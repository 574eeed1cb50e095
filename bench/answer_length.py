"""Length of procedure answers as residents see them: the first web bubble, the whole turn and the first SMS.

    .venv/bin/python bench/answer_length.py

Figures over every procedure of the knowledge base (question = the bare topic) and over typical questions
(the procedure is given, as the NLU would find it), so that the answer-first rendering can be compared.
Web lengths count the characters a resident sees: Markdown marks and link addresses are not counted.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.sms.render import render_messages
from bot.knowledge import get_knowledge_base
from bot.knowledge.model import Procedure
from bot.knowledge.render import render_sms, render_web

# (procedure id, question) pairs as residents write them, spelling included.
TYPICAL_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("passport", "combien coute un passeport pour mon fils de 12 ans"),
    ("identity_card", "jai perdu ma carte didentité"),
    ("identity_card", "combien coute une carte d'identité"),
    ("passport", "quels papiers pour un passeport"),
    ("passport", "délai pour un passeport"),
    ("passport", "cb coute le passeport pour ma fille de 16 ans"),
    ("identity_card", "on m'a vole ma cni"),
    ("identity_card", "carte d'identité pour mon fils sans internet"),
    ("driving_licence", "j'ai perdu mon permis de conduire"),
    ("birth_certificate", "comment avoir un acte de naissance"),
    ("housing_aid", "quels documents pour la caf apl"),
    ("health_card", "combien de temps pour avoir la carte vitale"),
    ("criminal_record", "où demander un casier judiciaire"),
    ("income_tax", "declarer mes impots sans internet"),
    ("bulky_waste", "combien coute l'enlevement des encombrants"),
)


def visible(markdown: str) -> str:
    """The text as the widget shows it: link titles without their address, no bold or italic marks."""
    text = re.sub(r"\[([^\]]*)\]\([^)\s]*\)", r"\1", markdown)
    return re.sub(r"\*\*|(?<!\w)_|_(?!\w)", "", text)


def link_only(page: str) -> bool:
    """An SMS page whose text (menu and PLUS notice aside) is a link and little else."""
    body = [line for line in page.splitlines() if not re.match(r"^(\d |Répondez PLUS)", line)]
    words = " ".join(body).split()
    rest = [word for word in words if "/" not in word and not re.search(r"\.(fr|com|org)\b", word)]
    return len(rest) < len(words) and len(re.sub(r"[^A-Za-z0-9]", "", " ".join(rest))) < 20


def _median(values: list[int]) -> str:
    return f"median {statistics.median(values):g}, max {max(values)}"


def report(label: str, pairs: list[tuple[Procedure, str | None]]) -> None:
    """Print first-bubble, whole-turn and first-SMS lengths (characters) for these questions."""
    firsts, totals, sms_firsts, link_pages = [], [], [], 0
    for procedure, question in pairs:
        web = render_web(procedure, question)
        firsts.append(len(visible(web[0].text)))
        totals.append(sum(len(visible(reply.text)) for reply in web))
        sms = [r.with_human_offer().as_dispatch_kwargs() for r in render_sms(procedure, question)]
        pages = render_messages(sms).pages
        sms_firsts.append(len(pages[0]))
        link_pages += sum(link_only(page) for page in pages)
    print(f"{label} ({len(pairs)} answers)")
    print(f"  first web bubble (characters): {_median(firsts)}")
    print(f"  whole web turn (characters):   {_median(totals)}")
    print(f"  first SMS (characters):        {_median(sms_firsts)}")
    print(f"  SMS pages holding only a link: {link_pages}")


def main() -> None:
    base = get_knowledge_base()
    report("Every procedure, bare topic", [(procedure, None) for procedure in base])
    pairs: list[tuple[Procedure, str | None]] = []
    for procedure_id, question in TYPICAL_QUESTIONS:
        procedure = base.get(procedure_id)
        if procedure is None:
            raise SystemExit(f"unknown procedure {procedure_id}")
        pairs.append((procedure, question))
    report("Typical questions", pairs)


if __name__ == "__main__":
    main()
