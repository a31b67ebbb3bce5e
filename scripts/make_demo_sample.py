"""Write the demo sample shipped in the package: the newest listing days of the shared corpus.

    python scripts/make_demo_sample.py ../shared/data/arxiv-listings/papers.jsonl.gz

Takes whole announcement days, newest first, until at least TARGET papers (arXiv metadata
is CC0). Run by a developer when the sample should change; the product never reads shared/.
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path

import orjson

TARGET = 2000
OUTPUT = Path(__file__).parents[1] / "src" / "dailypapers" / "demo" / "papers.jsonl.gz"


def main(source: Path) -> None:
    with gzip.open(source) as lines:
        per_day = Counter(orjson.loads(line)["listed"][0] for line in lines)
    days: set[str] = set()
    for day in sorted(per_day, reverse=True):
        days.add(day)
        if sum(per_day[d] for d in days) >= TARGET:
            break
    written = 0
    with gzip.open(source) as lines, gzip.GzipFile(OUTPUT, "wb", mtime=0) as out:
        for line in lines:
            if orjson.loads(line)["listed"][0] in days:
                out.write(line if line.endswith(b"\n") else line + b"\n")
                written += 1
    print(f"{written} papers over {len(days)} days -> {OUTPUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
