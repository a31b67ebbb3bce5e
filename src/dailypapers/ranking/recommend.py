""" "For you": a reader's model fitted from their library over stored embeddings, and the
one-line reason for each recommendation. Pure over arrays; no I/O.

The model is a weighted ridge classifier (least squares against +1 / -1, which for linear
scores behaves like the linear SVM arxiv-sanity-lite trains per tag): the reader's saved
papers are positives, weighted towards recent saves (as zotero-arxiv-daily weighs recent
additions), upvotes weak positives, "not interested" negatives, and the papers being ranked
the unlabelled rest, each weighing little. Fitting solves one d x d system (d = 384):
milliseconds for a library of a thousand papers, so a model is fitted when it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAVE_HALF_LIFE_DAYS = 180.0  # a save this old counts half as much as one made today
UPVOTE_WEIGHT = 0.3  # an upvote is a weak positive
NEGATIVE_WEIGHT = 1.0
REST_WEIGHT = 0.05  # each unlabelled paper: "probably not", weakly
RIDGE = 1.0
SIMILARITY_BLEND = 0.5  # the classifier's score and the closest saved paper's, half and half


@dataclass(frozen=True)
class Example:
    vector: np.ndarray  # unit length
    label: float  # +1 positive, -1 negative
    weight: float


@dataclass(frozen=True)
class ReaderModel:
    weights: np.ndarray  # (d,)
    positives: np.ndarray  # (p, d) the saved papers' vectors, for reasons
    positive_weights: np.ndarray  # (p,)


def save_weight(age_days: float) -> float:
    return float(0.5 ** (max(age_days, 0.0) / SAVE_HALF_LIFE_DAYS))


def fit(examples: list[Example], rest: np.ndarray) -> ReaderModel:
    """The reader's model from labelled examples and the unlabelled `rest` (n, d)."""
    dimensions = rest.shape[1] if rest.size else examples[0].vector.shape[0]
    vectors = [e.vector for e in examples] + list(rest)
    labels = [e.label for e in examples] + [-1.0] * len(rest)
    weights = [e.weight for e in examples] + [REST_WEIGHT] * len(rest)
    x = np.asarray(vectors, dtype=np.float64).reshape(-1, dimensions)
    y, w = np.asarray(labels), np.asarray(weights)
    gram = (x * w[:, None]).T @ x + RIDGE * np.eye(dimensions)
    solved = np.linalg.solve(gram, (x * w[:, None]).T @ y)
    positive = [e for e in examples if e.label > 0]
    return ReaderModel(
        weights=solved.astype(np.float32),
        positives=np.asarray([e.vector for e in positive], dtype=np.float32).reshape(
            -1, dimensions
        ),
        positive_weights=np.asarray([e.weight for e in positive], dtype=np.float32),
    )


def scores(model: ReaderModel, candidates: np.ndarray) -> np.ndarray:
    """Higher is closer to the reader: the classifier's margin blended with the weighted
    cosine to the closest saved paper, each standardised over the candidates."""
    margin = _standardised(candidates @ model.weights)
    if not len(model.positives):
        return margin
    nearest = _standardised((candidates @ model.positives.T * model.positive_weights).max(axis=1))
    return (1 - SIMILARITY_BLEND) * margin + SIMILARITY_BLEND * nearest


def _standardised(values: np.ndarray) -> np.ndarray:
    """On one scale across the candidates (a margin and a cosine are not comparable)."""
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values - values.mean()


def closest(model: ReaderModel, candidate: np.ndarray, count: int = 2) -> list[int]:
    """Indices of the saved papers most like `candidate`, closest first (the reason)."""
    if not len(model.positives):
        return []
    similarity = model.positives @ candidate
    return [int(i) for i in np.argsort(-similarity)[:count]]
