"""Papers for tests, with only the fields a test cares about spelled out."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from dailypapers.models import Paper, PaperVersion, attribute_sources

_numbers = itertools.count(1)


def make_paper(source: str = "test", **fields: Any) -> Paper:
    number = next(_numbers)
    defaults: dict[str, Any] = {
        "id": f"2401.{number:05d}",
        "title": f"Paper number {number}",
        "abstract": f"We study problem {number}.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.LG", "stat.ML"],
        "published": date(2024, 1, 2),
        "versions": [PaperVersion(1, datetime(2024, 1, 2, 18, 0, tzinfo=UTC))],
        "listed": [date(2024, 1, 3)],
    }
    return attribute_sources(Paper(**{**defaults, **fields}), source)
