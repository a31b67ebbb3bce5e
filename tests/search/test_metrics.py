"""nDCG@10 and Recall@100 as trec_eval computes them, checked by hand."""

from __future__ import annotations

import math

from pytest import approx

from dailypapers.search.evaluate import mean_scores, ndcg_at, recall_at


def test_ndcg_by_hand() -> None:
    judged = {"a": 1, "b": 2}
    # b at rank 1 and a at rank 3: DCG = 2/log2(2) + 1/log2(4) = 2.5; ideal = 2 + 1/log2(3)
    assert ndcg_at(["b", "x", "a"], judged) == approx(2.5 / (2 + 1 / math.log2(3)))
    assert ndcg_at(["b", "a"], judged) == approx(1.0)
    assert ndcg_at(["x"] * 10 + ["a"], judged) == 0.0  # beyond the cut-off
    assert ndcg_at([], judged) == 0.0


def test_recall_by_hand() -> None:
    judged = {"a": 1, "b": 1, "c": 0}  # grade 0 is judged not relevant
    assert recall_at(["a", "c"], judged) == 0.5
    assert recall_at(["x"] * 100 + ["a", "b"], judged) == 0.0


def test_means_over_judged_queries() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}  # q3 has nothing relevant
    scores = mean_scores({"q1": ["a"], "q2": ["x", "b"]}, qrels)
    assert scores["queries"] == 2
    assert scores["ndcg@10"] == approx((1 + 1 / math.log2(3)) / 2)
    assert scores["recall@100"] == 1.0
