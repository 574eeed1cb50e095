"""Keyword ranking of procedures (titles, keywords, summaries), so answers survive a model outage."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from bot.knowledge.model import Procedure
from bot.text import plain_words

# Words that say nothing about which procedure is meant (accents already removed).
STOPWORDS = frozenset(
    """a au aux avec ce ces cette comment d dans de des du elle en est et etre faire faut il ils je l la le les
    leur lui ma mais me mes mon ne nous on ou par pas pour qu que quel quelle quels qui sa se ses son sur ta te
    tes ton tu un une vous y c s n m t j apres avant ai as a-t-il quoi dont plus tres comme veut veux peut
    usager usagere administre administree personne habitant habitante monsieur madame mme mr svp bonjour merci
    fournir piece pieces document documents besoin demande demander obtenir faire""".split()  # noqa: SIM905
)
FIELD_WEIGHTS = {"keywords": 3.0, "title": 3.0, "summary": 1.0}
FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 84.0
PHRASE_BONUS = 2.5
SATURATION = 6.0  # the raw score at which keyword confidence reaches 0.5


def normalise(text: str) -> str:
    """Lower case, no accents, apostrophes and punctuation as spaces (how people type on a keyboard)."""
    return plain_words(text)


def _stem(token: str) -> str:
    return token[:-1] if len(token) > 3 and token.endswith(("s", "x")) else token


def tokens(text: str) -> list[str]:
    """The meaningful words of a text, normalised and lightly stemmed (plural s/x removed)."""
    return [_stem(t) for t in normalise(text).split() if (t not in STOPWORDS and len(t) > 1) or t.isdigit()]


class KeywordIndex:
    """A small weighted inverted index over the knowledge base, with typo-tolerant matching."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self._weights: dict[str, dict[str, float]] = defaultdict(dict)  # token -> procedure id -> weight
        self._phrases: dict[str, list[str]] = {}  # procedure id -> keyword phrases of 2+ words
        ids: list[str] = []
        for procedure in procedures:
            ids.append(procedure.id)
            fields = {
                "keywords": " ".join(procedure.keywords),
                "title": procedure.title,
                "summary": procedure.summary,
            }
            for field, text in fields.items():
                for token in tokens(text):
                    current = self._weights[token].get(procedure.id, 0.0)
                    self._weights[token][procedure.id] = max(current, FIELD_WEIGHTS[field])
            self._phrases[procedure.id] = [
                phrase for phrase in (" ".join(tokens(k)) for k in (*procedure.keywords, procedure.title))
                if len(phrase.split()) >= 2
            ]
        count = max(len(ids), 1)
        self._idf = {token: math.log(1 + count / len(owners)) for token, owners in self._weights.items()}
        self._vocabulary = list(self._weights)
        self._ids = ids

    def _matches(self, token: str) -> list[tuple[str, float]]:
        """Vocabulary words this query word stands for, with a similarity in [0, 1]."""
        if token in self._weights:
            return [(token, 1.0)]
        if len(token) < FUZZY_MIN_LENGTH:
            return []
        found = process.extract(token, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=3)
        return [(word, score / 100.0) for word, score, _ in found]

    def raw_scores(self, query: str) -> dict[str, float]:
        """Unbounded relevance of each procedure for the query (0 when nothing matches)."""
        query_tokens = tokens(query)
        scores: dict[str, float] = defaultdict(float)
        for token in dict.fromkeys(query_tokens):
            best: dict[str, float] = {}
            for word, similarity in self._matches(token):
                for procedure_id, weight in self._weights[word].items():
                    value = weight * self._idf[word] * similarity
                    best[procedure_id] = max(best.get(procedure_id, 0.0), value)
            for procedure_id, value in best.items():
                scores[procedure_id] += value
        joined = f" {' '.join(query_tokens)} "
        for procedure_id, phrases in self._phrases.items():
            if any(f" {phrase} " in joined for phrase in phrases):
                scores[procedure_id] += PHRASE_BONUS
        return dict(scores)

    def scores(self, query: str) -> dict[str, float]:
        """Keyword confidence of each procedure in [0, 1) (saturating, so one word never means certainty)."""
        return {pid: raw / (raw + SATURATION) for pid, raw in self.raw_scores(query).items() if raw > 0}
