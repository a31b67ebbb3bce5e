""" "For you": a period's papers ranked for one reader, from their library (saved papers in
tags, upvotes, "not interested") or from a library given as a list of ids, each with a
reason a person can check. A reader with nothing saved gets the period's trending papers of
the categories they chose.

A reader's model is kept with the key of the library it was fitted from. A page that finds
it out of date ranks with it all the same and asks a worker to fit it again (the `for-you`
job); the digests, which run in a worker already, fit it there and then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from hashlib import blake2b

import numpy as np
from sqlalchemy import Connection

from dailypapers.jobs import queue
from dailypapers.ranking.recommend import (
    NEGATIVE_WEIGHT,
    UPVOTE_WEIGHT,
    Authorship,
    Example,
    ReaderModel,
    author_key,
    closest,
    fit,
    from_bytes,
    save_weight,
    scores,
    to_bytes,
)
from dailypapers.ranking.trending import order_papers
from dailypapers.storage import Store
from dailypapers.storage.feed import days_of, in_categories
from dailypapers.storage.library import fitted_model, keep_model, not_interesting, saved_papers
from dailypapers.storage.papers import authors_of, get_papers
from dailypapers.storage.profiles import upvoted_by
from dailypapers.storage.search import paper_vectors, recent_vectors
from dailypapers.storage.votes import trending_scores, vote_counts

MAX_LIBRARY = 5000  # the newest saves and upvotes a model learns from
BACKGROUND = 2000  # recent papers a model is fitted against
FIT_JOB = "for-you"  # the job kind that fits a reader's model again
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


@dataclass(frozen=True)
class Candidates:
    """A period's papers with what ranking them takes: read once, ranked for many readers."""

    days: dict[str, date]
    ids: list[str]  # those with a vector
    vectors: np.ndarray
    authors: list[list[str]]
    authorship: Authorship


def period_candidates(connection: Connection, first: date, last: date) -> Candidates:
    days = days_of(connection, first, last)
    vectors = paper_vectors(connection, list(days))
    ids = [p for p in days if p in vectors]
    authors = authors_of(connection, ids)
    rows = np.stack([vectors[p] for p in ids]) if ids else np.empty((0, 0), np.float32)
    names = [authors.get(p, []) for p in ids]
    return Candidates(days, ids, rows, names, Authorship.of(names))


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


def library_key(library: Sequence[Known]) -> str:
    """Changes when a paper is saved, moved, upvoted or turned down (not as saves age)."""
    text = "\n".join(sorted(f"{k.paper_id} {k.label:+.0f} {' '.join(k.tags)}" for k in library))
    return blake2b(text.encode(), digest_size=16).hexdigest()


def fit_library(connection: Connection, library: Sequence[Known]) -> ReaderModel | None:
    """A model fitted from the library against the papers embedded last (None: no saved or
    upvoted paper has a vector yet)."""
    ids = [k.paper_id for k in library]
    vectors = paper_vectors(connection, ids)
    if not any(k.label > 0 and k.paper_id in vectors for k in library):
        return None
    authors = authors_of(connection, ids)
    examples = [
        Example(vectors[k.paper_id], k.label, k.weight, authors.get(k.paper_id, ()), k.tags)
        for k in library
        if k.paper_id in vectors
    ]
    return fit(examples, recent_vectors(connection, BACKGROUND, set(ids)))


def reader_model(
    store: Store,
    connection: Connection,
    user_id: int,
    library: Sequence[Known],
    now: datetime,
    *,
    fit_now: bool,
) -> ReaderModel | None:
    """The reader's kept model. One fitted from an older library is used as it is, and a
    worker asked to fit it again, unless `fit_now` (or none is kept): then it is fitted here."""
    key = library_key(library)
    kept = fitted_model(connection, user_id)
    if kept is not None and (kept.library_key == key or not fit_now):
        if kept.library_key != key:
            with store.bookkeeping(connection) as writing:
                queue.schedule(writing, FIT_JOB, f"{FIT_JOB}:{user_id}", {"user_id": user_id}, now)
        return from_bytes(kept.model)
    model = fit_library(connection, library)
    if model is not None:
        with store.bookkeeping(connection) as writing:
            keep_model(writing, user_id, key, to_bytes(model), now)
    return model


def fit_reader(store: Store, user_id: int, now: datetime) -> bool:
    """The `for-you` job: fit the reader's model from their library as it is now."""
    with store.read() as connection:
        library = reader_library(connection, user_id, now)
        return reader_model(store, connection, user_id, library, now, fit_now=True) is not None


def recommend(
    connection: Connection,
    library: Sequence[Known],
    model: ReaderModel | None,
    candidates: Candidates,
    limit: int,
    categories: Sequence[str] = (),
) -> list[Recommendation]:
    """The candidates best first, leaving out the library's papers."""
    mine = {k.paper_id for k in library}
    positives = [k for k in library if k.label > 0]
    vectors = paper_vectors(connection, [k.paper_id for k in positives])
    positives = [k for k in positives if k.paper_id in vectors]
    if model is None or not positives or not set(candidates.ids) - mine:
        return _cold_start(connection, candidates.days, mine, limit, categories)
    saved = np.asarray([vectors[k.paper_id] for k in positives], dtype=np.float32)
    weights = np.asarray([k.weight for k in positives], dtype=np.float32)
    found = scores(model, candidates.vectors, candidates.authorship, saved, weights)
    ordered = np.argsort(-found.scores, kind="stable")
    best = [int(i) for i in ordered if candidates.ids[i] not in mine][:limit]
    in_tag = {
        tag: np.asarray([n for n, k in enumerate(positives) if tag is None or tag in k.tags])
        for tag in {found.tag[i] for i in best}
    }
    near = {
        i: [positives[j] for j in closest(saved, candidates.vectors[i], in_tag[found.tag[i]])]
        for i in best
    }
    named = {k.paper_id for nearest in near.values() for k in nearest}
    titles = {p.id: p.title or p.id for p in get_papers(connection, sorted(named))}
    return [
        Recommendation(
            candidates.ids[i],
            round(float(found.scores[i]), 4),
            _reason(near[i], found.tag[i], _named(candidates.authors[i], found.authors[i]), titles),
        )
        for i in best
    ]


def _named(authors: list[str], keys: set[str]) -> list[str]:
    return [a for a in authors if author_key(a) in keys]


def _reason(near: list[Known], tag: str | None, authors: list[str], titles: dict[str, str]) -> str:
    """Why: the authors of saved papers who wrote it, the saved papers it is closest to, and
    the tag whose papers it fits best (or theirs)."""
    named = " and ".join(f"«{' '.join(titles.get(k.paper_id, k.paper_id).split())}»" for k in near)
    tags = [tag] if tag else sorted({t for k in near for t in k.tags})
    where = f" in your tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}" if tags else ""
    by = ""
    if authors:
        more = f" and {len(authors) - 2} more" if len(authors) > 2 else ""
        by = f"by {', '.join(authors[:2])}{more}, who wrote papers in your library; "
    return f"{by}close to {named}{where}"


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
