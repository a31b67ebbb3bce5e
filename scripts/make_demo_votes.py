"""Write the demo's sample vote history shipped in the package (src/dailypapers/demo/votes.json).

    python scripts/make_demo_votes.py \
        ../shared/data/fixtures/hf-daily-papers/daily_papers-2026-06-12.json

Sample data: the vote counts are the upvotes Hugging Face recorded for the 30 papers of one
daily list; the demo papers are other papers, so each count goes, twice over, to a demo paper
drawn at random, and each vote to an hour drawn within SPREAD_HOURS. The demo casts each vote
that many hours before its first start, so trending has votes of the last days whatever the
date. Seeded: a rerun writes the same file. Run by a developer; the product never reads shared/.
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

import orjson

SEED = 13
COPIES = 2  # each recorded count goes to this many demo papers
SPREAD_HOURS = 6 * 24  # inside the trending window of 7 days
DEMO = Path(__file__).parents[1] / "src" / "dailypapers" / "demo"


def main(source: Path) -> None:
    counts = [entry["paper"]["upvotes"] for entry in orjson.loads(source.read_bytes())]
    with gzip.open(DEMO / "papers.jsonl.gz") as lines:
        ids = sorted(orjson.loads(line)["id"] for line in lines)
    draw = random.Random(SEED)
    papers = draw.sample(ids, len(counts) * COPIES)
    history = {
        paper_id: sorted(round(draw.uniform(0, SPREAD_HOURS), 1) for _ in range(count))
        for paper_id, count in zip(papers, counts * COPIES, strict=True)
        if count
    }
    (DEMO / "votes.json").write_bytes(
        orjson.dumps({"source": source.name, "hours_ago": history}, option=orjson.OPT_SORT_KEYS)
    )
    print(f"{sum(map(len, history.values()))} votes on {len(history)} papers -> {DEMO}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
