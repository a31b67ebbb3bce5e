""" "For you": a period's papers ranked for one reader, from their library (saved papers in
tags, upvotes, "not interested") or from a library given as a list of ids, each with a
reason a person can check. A reader with nothing saved gets the period's trending papers of
the categories they chose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import Connection

from dailypapers.ranking.recommend import (
    NEGATIVE_WEIGHT,
    UPVOTE_WEIGHT,
    Example,
    closest,
    fit,
    save_weight,
    scores,
)
from dailypapers.ranking.trending import order_papers
from dailypapers.storage.feed import days_of, in_categories
from dailypapers.storage.library import not_interesting, saved_papers
from dailypapers.storage.papers import get_papers
from dailypapers.storage.profiles import upvoted_by
from dailypapers.storage.search import paper_vectors
from dailypapers.storage.votes import trending_scores, vote_counts

MAX_LIBRARY = 5000  # the newest saves and upvotes a model learns from
HOW_TO_TEACH = "save papers into tags (or upvote them) and this list learns what you read"


@dataclass(frozen=True)
class Known:
    """A paper of a reader's library: what it says about them."""

    paper_id: str
    label: float  # +1 saved or upvoted, -1 not interested
    weight: float
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    id: str
    score: float
    reason: str


def reader_library(connection: Connection, user_id: int, now: datetime) -> list[Known]:
    """What the reader saved (recent saves weigh more), upvoted and turned down."""
    known = [
        Known(s.paper_id, 1.0, save_weight((now - s.added_at).total_seconds() / 86400), s.tags)
        for s in saved_papers(connection, user_id)[:MAX_LIBRARY]
    ]
    saved = {k.paper_id for k in known}
    known += [
        Known(paper_id, 1.0, UPVOTE_WEIGHT)
        for paper_id in upvoted_by(connection, user_id, MAX_LIBRARY)
        if paper_id not in saved
    ]
    known += [Known(p, -1.0, NEGATIVE_WEIGHT) for p in sorted(not_interesting(connection, user_id))]
    return known


def library_of_ids(ids: Sequence[str]) -> list[Known]:
    """A library given as ids (a file, a script): every paper a positive, equally."""
    return [Known(paper_id, 1.0, 1.0) for paper_id in dict.fromkeys(ids)]


def recommend(
    connection: Connection,
    library: list[Known],
    first: date,
    last: date,
    limit: int,
    categories: Sequence[str] = (),
) -> list[Recommendation]:
    """The papers of the feed days [first, last] best first, leaving out the library's."""
    days = days_of(connection, first, last)
    mine = {k.paper_id for k in library}
    candidates = [paper_id for paper_id in days if paper_id not in mine]
    vectors = paper_vectors(connection, [*candidates, *mine])
    positives = [k for k in library if k.label > 0 and k.paper_id in vectors]
    ranked = [p for p in candidates if p in vectors]
    if not positives or not ranked:
        return _cold_start(connection, days, mine, limit, categories)
    examples = [
        Example(vectors[k.paper_id], k.label, k.weight) for k in library if k.paper_id in vectors
    ]
    rest = np.asarray([vectors[p] for p in ranked])
    model = fit(examples, rest)
    found = scores(model, rest)
    best = np.argsort(-found, kind="stable")[:limit]
    near = {i: [positives[j] for j in closest(model, rest[i])] for i in best}
    named = {k.paper_id for closest_ones in near.values() for k in closest_ones}
    titles = {p.id: p.title or p.id for p in get_papers(connection, sorted(named))}
    return [
        Recommendation(ranked[i], round(float(found[i]), 4), _reason(near[i], titles)) for i in best
    ]


def _reason(near: list[Known], titles: dict[str, str]) -> str:
    """Why: the saved papers it is closest to, and their tags."""
    named = " and ".join(f"«{' '.join(titles.get(k.paper_id, k.paper_id).split())}»" for k in near)
    tags = sorted({tag for k in near for tag in k.tags})
    where = f" in your tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}" if tags else ""
    return f"close to {named}{where}"


def _cold_start(
    connection: Connection,
    days: dict[str, date],
    mine: set[str],
    limit: int,
    categories: Sequence[str],
) -> list[Recommendation]:
    """Nothing to learn from yet: the period's trending papers in the reader's categories."""
    chosen = in_categories(connection, list(days), categories) if categories else set(days)
    shown = {p: d for p, d in days.items() if p in chosen and p not in mine}
    trending = trending_scores(connection, shown, datetime.now(UTC))
    ordered = order_papers(shown, vote_counts(connection, list(shown)), trending, "trending")
    where = f" in {', '.join(categories)}" if categories else ""
    reason = f"trending{where}: {HOW_TO_TEACH}"
    return [Recommendation(p, round(trending[p], 4), reason) for p in ordered[:limit]]
