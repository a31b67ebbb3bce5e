""" "For you": a reader's model fitted from their library, the scores it gives new papers, and
what a reason names. Pure over arrays; no I/O.

Three signals, each on the scale of a standard deviation across the papers being ranked:
- a weighted ridge classifier over the stored embeddings (least squares against +1 / -1,
  which for linear scores behaves like the linear SVM arxiv-sanity-lite trains per tag),
  one for the whole library and one per tag, a paper scored by the one it fits best: saved
  papers are positives, weighted towards recent saves (as zotero-arxiv-daily weighs recent
  additions), upvotes weak positives, "not interested" negatives, and a background of recent
  papers the unlabelled rest, each weighing little;
- the cosine to the closest saved paper (a library of one paper still ranks);
- the authors: a paper by the authors of saved papers (arxiv-sanity-lite puts author names
  into its tf-idf; here they are matched whole, so that rare names count too).
Fitting solves one d x d system per model (d = 384) over a background shared by all of them:
milliseconds, so a model is fitted again whenever the library changes, and kept.
"""

from __future__ import annotations

import io
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAVE_HALF_LIFE_DAYS = 180.0  # a save this old counts half as much as one made today
UPVOTE_WEIGHT = 0.3  # an upvote is a weak positive
NEGATIVE_WEIGHT = 1.0
REST_WEIGHT = 0.05  # each background paper: "probably not", weakly
RIDGE = 1.0
SIMILARITY_BLEND = 0.5  # the classifier's score and the closest saved paper's, half and half
AUTHOR_WEIGHT = 2.0  # one shared author of one saved paper (of 3 authors): +1.15 std
MAX_TAG_MODELS = 20  # the largest tags get a model of their own
MIN_TAG_PAPERS = 2


@dataclass(frozen=True)
class Example:
    vector: np.ndarray  # unit length
    label: float  # +1 positive, -1 negative
    weight: float
    authors: Sequence[str] = ()
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class ReaderModel:
    weights: np.ndarray  # (1 + tags, d): the whole library's classifier, then each tag's
    tags: tuple[str, ...]  # the tag of each classifier after the first
    authors: dict[str, float]  # author key -> weight of their saved papers, less turned-down


@dataclass(frozen=True)
class Authorship:
    """Who wrote the papers being ranked, indexed once for every reader who ranks them."""

    rows: dict[str, list[int]]  # author key -> the rows of their papers
    counts: np.ndarray  # (n,) each paper's number of authors

    @classmethod
    def of(cls, authors: Sequence[Sequence[str]]) -> Authorship:
        rows: dict[str, list[int]] = defaultdict(list)
        for row, names in enumerate(authors):
            for key in dict.fromkeys(author_key(a) for a in names):
                rows[key].append(row)
        counts = np.asarray([len(set(map(author_key, names))) for names in authors], np.float32)
        return cls(dict(rows), counts)


@dataclass(frozen=True)
class Scored:
    scores: np.ndarray  # (n,) higher is closer to the reader
    tag: list[str | None]  # the tag whose classifier fits each paper best (None: the library)
    authors: list[set[str]]  # the keys of each paper's authors who wrote saved papers


def save_weight(age_days: float) -> float:
    return float(0.5 ** (max(age_days, 0.0) / SAVE_HALF_LIFE_DAYS))


def author_key(name: str) -> str:
    """One spelling per name: "Émile  Borel" and "emile borel" are one author."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.replace(".", " ").casefold().split())


def fit(examples: Sequence[Example], background: np.ndarray) -> ReaderModel:
    """The reader's model from labelled examples and a `background` (n, d) of other papers."""
    dimensions = background.shape[1] if background.size else examples[0].vector.shape[0]
    # The products in float32 (twice as fast; the sums stay exact enough), the solve in float64.
    rest = np.asarray(background, dtype=np.float32).reshape(-1, dimensions)
    shared_gram = REST_WEIGHT * (rest.T @ rest).astype(np.float64) + RIDGE * np.eye(dimensions)
    shared_target = -REST_WEIGHT * rest.sum(axis=0)
    negatives = [e for e in examples if e.label < 0]
    tags = _tags_with_models(examples)
    rows = []
    for tag in (None, *tags):
        chosen = [e for e in examples if e.label > 0 and (tag is None or tag in e.tags)]
        x = np.asarray([e.vector for e in chosen + negatives], dtype=np.float32)
        x = x.reshape(-1, dimensions)
        w = np.asarray([e.weight for e in chosen + negatives], dtype=np.float32)
        y = np.asarray([e.label for e in chosen + negatives], dtype=np.float32)
        gram = shared_gram + ((x * w[:, None]).T @ x).astype(np.float64)
        rows.append(np.linalg.solve(gram, shared_target + (x * w[:, None]).T @ y))
    return ReaderModel(np.asarray(rows, dtype=np.float32), tags, _author_weights(examples))


def _tags_with_models(examples: Sequence[Example]) -> tuple[str, ...]:
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        if example.label > 0:
            for tag in example.tags:
                counts[tag] += 1
    large = sorted((t for t, n in counts.items() if n >= MIN_TAG_PAPERS), key=lambda t: -counts[t])
    return tuple(sorted(large[:MAX_TAG_MODELS])) if len(counts) > 1 else ()


def _author_weights(examples: Sequence[Example]) -> dict[str, float]:
    weights: dict[str, float] = defaultdict(float)
    for example in examples:
        for name in {author_key(a) for a in example.authors}:
            weights[name] += example.label * example.weight
    return {name: weight for name, weight in weights.items() if weight}


def scores(
    model: ReaderModel,
    candidates: np.ndarray,
    authorship: Authorship,
    positives: np.ndarray,
    positive_weights: np.ndarray,
) -> Scored:
    """The candidates (n, d) scored: the best-fitting classifier's margin blended with the
    weighted cosine to the closest saved paper (`positives`, (p, d)), plus their authors'."""
    margins = _standardised(candidates @ model.weights.T)
    best = margins.argmax(axis=1)
    found = margins.max(axis=1)
    if len(positives):
        nearest = _standardised((candidates @ positives.T * positive_weights).max(axis=1))
        found = (1 - SIMILARITY_BLEND) * found + SIMILARITY_BLEND * nearest
    by_authors = np.zeros(len(candidates), np.float32)
    shared: dict[int, set[str]] = defaultdict(set)
    for key, weight in model.authors.items():  # the reader's authors: fewer than the day's
        for row in authorship.rows.get(key, ()):
            by_authors[row] += weight
            if weight > 0:
                shared[row].add(key)
    found = found + AUTHOR_WEIGHT * by_authors / np.sqrt(np.maximum(authorship.counts, 1))
    tags = [model.tags[i - 1] if i else None for i in best]
    return Scored(found, tags, [shared.get(row, set()) for row in range(len(candidates))])


def _standardised(values: np.ndarray) -> np.ndarray:
    """On one scale across the candidates, column by column (a margin and a cosine are not
    comparable, nor are two classifiers' margins)."""
    spread = values.std(axis=0)
    centred = values - values.mean(axis=0)
    return np.divide(centred, spread, out=centred, where=spread > 0)


def closest(
    positives: np.ndarray, candidate: np.ndarray, among: np.ndarray, count: int = 2
) -> list[int]:
    """Indices of the saved papers (of the rows `among`) most like `candidate`, closest first."""
    if not len(among):
        return []
    similarity = positives[among] @ candidate
    return [int(among[i]) for i in np.argsort(-similarity)[:count]]


def to_bytes(model: ReaderModel) -> bytes:
    """What is kept of a model between fittings (no pickles: numpy arrays of numbers and text)."""
    kept = io.BytesIO()
    np.savez(
        kept,
        weights=model.weights,
        tags=np.asarray(model.tags, dtype=str),
        authors=np.asarray(list(model.authors), dtype=str),
        author_weights=np.asarray(list(model.authors.values()), dtype=np.float32),
    )
    return kept.getvalue()


def from_bytes(data: bytes) -> ReaderModel:
    with np.load(io.BytesIO(data), allow_pickle=False) as kept:
        authors = dict(zip(kept["authors"].tolist(), kept["author_weights"].tolist(), strict=True))
        return ReaderModel(kept["weights"], tuple(kept["tags"].tolist()), authors)
