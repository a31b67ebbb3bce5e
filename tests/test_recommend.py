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
from dailypapers.ranking.recommend import Example, fit, scores
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
    assert all(f["reason"].startswith("close to «") for f in found)
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


def test_the_fit_prefers_what_is_like_the_positives() -> None:
    rng = np.random.default_rng(7)
    topic = rng.normal(size=16)
    liked = [topic + rng.normal(scale=0.3, size=16) for _ in range(5)]
    rest = rng.normal(size=(50, 16))
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    model = fit([Example(unit(v), 1.0, 1.0) for v in liked], unit(rest))
    near, far = unit(topic + rng.normal(scale=0.3, size=16)), unit(-topic)
    ranked = scores(model, np.vstack([unit(rest), near, far]))
    assert ranked.argmax() == 50 and ranked[51] < np.median(ranked)
