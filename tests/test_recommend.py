""" "For you" from the command line: a day's papers ranked for a library file or a reader's
account, each with a reason; the cold start says how to teach it; the fit is pure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
from click.testing import Result

from dailypapers.demo import load_demo_if_empty
from dailypapers.ranking.recommend import (
    Authorship,
    Example,
    author_key,
    fit,
    from_bytes,
    scores,
    to_bytes,
)
from dailypapers.storage import Store
from dailypapers.storage.library import mark_not_interested, save_papers
from dailypapers.storage.papers import get_papers
from dailypapers.storage.readers import remember_categories
from dailypapers.storage.users import create_user

FACES = ["2606.32040", "2606.31703"]  # FaceMoE; a face-swap deepfake defence (cs.CV)


def categories_of(store: Store, ids: list[str]) -> list[list[str]]:
    with store.read() as connection:
        papers = {p.id: p for p in get_papers(connection, ids)}
    return [papers[i].categories for i in ids]


def test_a_library_file_ranks_the_day_for_it(
    store: Store, dailypapers: Callable[..., Result], tmp_path: Path
) -> None:
    load_demo_if_empty(store)
    library = tmp_path / "mine.txt"
    library.write_text("\n".join(f"arXiv:{i}" for i in FACES) + "\n")
    result = dailypapers("recommend", "--library", library, "--date", "2026-07-01", "--json")
    assert result.exit_code == 0, result.output
    found = orjson.loads(result.stdout)
    assert len(found) == 10 and set(found[0]) == {"id", "score", "reason"}
    assert not {f["id"] for f in found} & set(FACES)
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)
    assert all("close to «" in f["reason"] for f in found)
    in_cv = sum("cs.CV" in c for c in categories_of(store, [f["id"] for f in found]))
    assert in_cv >= 7  # the day's cs.CV share is about a fifth

    text = dailypapers("recommend", "--library", library, "--limit", "3")
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 3


def test_a_readers_tags_saves_and_negatives_shape_the_list(
    store: Store, dailypapers: Callable[..., Result]
) -> None:
    load_demo_if_empty(store)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        reader = create_user(connection, "ada", "unused", now, False)
        save_papers(connection, reader.id, "faces", FACES, now)
    answer = dailypapers("recommend", "ada", "--json")
    assert answer.exit_code == 0, answer.output
    first = orjson.loads(answer.stdout)
    assert all("in your tag faces" in f["reason"] for f in first)
    with store.transaction() as connection:
        mark_not_interested(connection, reader.id, first[0]["id"], now)
    again = orjson.loads(dailypapers("recommend", "ada", "--json").stdout)
    assert first[0]["id"] not in {f["id"] for f in again}


def test_nothing_saved_gets_trending_in_the_chosen_categories(
    store: Store, dailypapers: Callable[..., Result]
) -> None:
    load_demo_if_empty(store)
    with store.transaction() as connection:
        reader = create_user(connection, "bob", "unused", datetime.now(UTC), False)
        remember_categories(connection, reader.id, ["cs.CL"])
    found = orjson.loads(dailypapers("recommend", "bob", "--json").stdout)
    assert len(found) == 10 and "save papers into tags" in found[0]["reason"]
    assert all("cs.CL" in c for c in categories_of(store, [f["id"] for f in found]))


def test_bad_arguments_are_refused(store: Store, dailypapers: Callable[..., Result]) -> None:
    assert dailypapers("recommend").exit_code == 2
    assert dailypapers("recommend", "ada", "--library", "x.bib").exit_code == 2
    missing = dailypapers("recommend", "nobody")
    assert missing.exit_code == 1


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def test_the_fit_prefers_what_is_like_the_positives() -> None:
    rng = np.random.default_rng(7)
    topic = rng.normal(size=16)
    liked = unit(np.array([topic + rng.normal(scale=0.3, size=16) for _ in range(5)]))
    rest = unit(rng.normal(size=(50, 16)))
    model = fit([Example(v, 1.0, 1.0) for v in liked], rest)
    near, far = unit(topic + rng.normal(scale=0.3, size=16)), unit(-topic)
    candidates = np.vstack([rest, near, far])
    ranked = scores(model, candidates, Authorship.of([[]] * 52), liked, np.ones(5)).scores
    assert ranked.argmax() == 50 and ranked[51] < np.median(ranked)


def test_authors_of_saved_papers_and_the_best_fitting_tag_count() -> None:
    rng = np.random.default_rng(11)
    first, second = rng.normal(size=16), rng.normal(size=16)
    saved = [
        Example(unit(first + rng.normal(scale=0.2, size=16)), 1.0, 1.0, ["Émile Borel"], ["a"])
        for _ in range(3)
    ] + [
        Example(unit(second + rng.normal(scale=0.2, size=16)), 1.0, 1.0, [], ["b"])
        for _ in range(3)
    ]
    model = from_bytes(to_bytes(fit(saved, unit(rng.normal(size=(40, 16))))))
    assert model.tags == ("a", "b") and model.authors == {author_key("émile  borel"): 3.0}
    candidates = unit(np.vstack([rng.normal(size=(20, 16)), second]))
    authors: list[list[str]] = [[] for _ in range(21)]
    authors[3] = ["Emile Borel", "Someone Else"]
    positives = np.array([e.vector for e in saved])
    found = scores(model, candidates, Authorship.of(authors), positives, np.ones(6))
    assert found.scores.argmax() == 3 and found.authors[3] == {"emile borel"}
    assert found.tag[20] == "b" and np.argsort(-found.scores)[1] == 20


def test_a_library_of_one_paper_ranks_by_it(
    store: Store, dailypapers: Callable[..., Result], tmp_path: Path
) -> None:
    load_demo_if_empty(store)
    library = tmp_path / "one.txt"
    library.write_text(FACES[0] + "\n")
    found = orjson.loads(dailypapers("recommend", "--library", library, "--json").stdout)
    assert len(found) == 10 and all("close to «" in f["reason"] for f in found)
    assert sum("cs.CV" in c for c in categories_of(store, [f["id"] for f in found])) >= 6
