"""Ingestion benchmark: papers/second into SQLite and peak memory, for two bulk formats.

    .venv/bin/python bench/ingest.py [--records N] [--keep DIR] [--skip-snapshot]

1. Listings: the shared listings file (our JSON-lines format) via `paper_from_json`.
2. Snapshot: a generated arXiv bulk-snapshot file of N records (the real listings corpus
   converted to the snapshot schema and repeated with re-numbered ids) via
   `paper_from_snapshot`, imported at N/10 and N records.

Every import runs in a fresh child process (this script with `--child`), which reports its
peak RSS right after the import, then times a parse-only pass over the same file (read +
orjson + parser, nothing stored) as the same-process baseline. Compare runs by the
store/parse ratio rather than raw seconds: these machines are noisy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

LISTINGS = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-listings" / "papers.jsonl.gz"
)
TARGET = 20_000  # papers/s into SQLite, from the issue


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")  # noqa: SIM115


def _parser(kind: str) -> Any:
    if kind == "listings":
        from dailypapers.ingest.jsonl import paper_from_json

        return paper_from_json
    from dailypapers.ingest.snapshot import paper_from_snapshot

    return paper_from_snapshot


def _peak_rss_mib() -> float:
    """The larger peak of this process and of its import worker (the reading/parsing side)."""
    peak = max(
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def child(kind: str, path: Path, db: Path) -> None:
    """Import `path` into a fresh SQLite file, then time the parse-only baseline; print JSON."""
    from dailypapers.ingest.bulk import import_json_lines
    from dailypapers.storage import open_store
    from dailypapers.storage.papers import count_papers

    parse = _parser(kind)
    store = open_store(f"sqlite:///{db}")  # migrations are not part of the timing
    rss_before = _peak_rss_mib()  # interpreter, SQLAlchemy, Alembic: not the import's doing
    start = time.perf_counter()
    report = import_json_lines(store, path, parse)
    store_s = time.perf_counter() - start
    rss = _peak_rss_mib()  # the import's peak, before the baseline runs
    with store.read() as connection:
        rows = count_papers(connection)
    store.close()

    print(f"    imported in {store_s:.1f} s; parse-only baseline…", file=sys.stderr, flush=True)
    start = time.perf_counter()
    parsed = 0
    with _open(path) as lines:
        for line in lines:
            if line.strip():
                parse(orjson.loads(line))
                parsed += 1
    parse_s = time.perf_counter() - start
    result = dict(
        papers=report.papers,
        skipped=report.skipped,
        rows=rows,
        parsed=parsed,
        store_s=store_s,
        parse_s=parse_s,
        rss_mib=rss,
        rss_before_mib=rss_before,
    )
    print(json.dumps(result))


def run_child(kind: str, path: Path, db: Path) -> dict[str, Any]:
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # a fresh database each time, also with --keep
    command = [sys.executable, __file__, "--child", kind, str(path), str(db)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _snapshot_tail(record: dict[str, Any], index: int) -> bytes:
    """A listings record in the snapshot schema, serialised without its leading `{"id":..,`."""
    authors: list[str] = record["authors"]
    day = date.fromisoformat(record["listed"][0])
    created = day - timedelta(days=1)  # submitted the day before it was listed
    stamp = f"{created:%a}, {created.day} {created:%b %Y} 18:{index % 60:02d}:{index % 59:02d} GMT"
    parsed = [
        [*reversed(name.rsplit(" ", 1)), ""] if " " in name else [name, "", ""] for name in authors
    ]
    snapshot = {
        "submitter": authors[0] if authors else None,
        "authors": ", ".join(authors),
        "title": record["title"],
        "comments": record["comment"],
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(record["categories"]),
        "license": None,
        "abstract": f"  {record['abstract']}\n",
        "versions": [{"version": "v1", "created": stamp}],
        "update_date": day.isoformat(),
        "authors_parsed": parsed,
    }
    return orjson.dumps(snapshot)[1:]


def generate_snapshots(large: Path, small: Path, records: int, small_records: int) -> None:
    """Stream `records` snapshot lines to `large`, the first `small_records` also to `small`."""
    with gzip.open(LISTINGS, "rb") as lines:
        tails = [_snapshot_tail(orjson.loads(line), i) for i, line in enumerate(lines)]
    with open(large, "wb", buffering=1 << 20) as out, open(small, "wb", buffering=1 << 20) as head:
        for k in range(records):
            # Fresh ids in the YYMM.NNNNN scheme (from 9001: no real paper), one per record.
            block, number = divmod(k, 100_000)
            year, month = divmod(block, 12)
            line = b'{"id":"%02d%02d.%05d",%s\n' % (
                90 + year,
                month + 1,
                number,
                tails[k % len(tails)],
            )
            out.write(line)
            if k < small_records:
                head.write(line)


def _small(records: int) -> int:
    return max(1, records // 10)


def _row(label: str, records: int, r: dict[str, Any]) -> list[str]:
    rate = r["papers"] / r["store_s"]
    return [
        label,
        f"{records:,}",
        f"{r['rows']:,}",
        f"{r['store_s']:.1f}",
        f"{rate:,.0f}",
        f"{r['parsed'] / r['parse_s']:,.0f}",
        f"{r['store_s'] / r['parse_s']:.2f}",
        f"{r['rss_mib']:.0f}",
        "yes" if rate >= TARGET else "NO",
    ]


def _print_result(name: str, r: dict[str, Any]) -> None:
    print(
        f"    {name}: stored {r['papers']:,} papers ({r['skipped']} skipped, {r['rows']:,} rows)"
        f" in {r['store_s']:.1f} s = {r['papers'] / r['store_s']:,.0f} papers/s; parse only"
        f" {r['parse_s']:.1f} s = {r['parsed'] / r['parse_s']:,.0f} papers/s;"
        f" store/parse {r['store_s'] / r['parse_s']:.2f}; peak RSS {r['rss_mib']:.0f} MiB"
        f" ({r['rss_before_mib']:.0f} MiB before the import)"
    )


def bench(work: Path, records: int, skip_snapshot: bool) -> None:
    rows: list[list[str]] = []
    print(f"[listings] importing {LISTINGS} into SQLite (fresh child process)", flush=True)
    listings = run_child("listings", LISTINGS, work / "listings.sqlite")
    _print_result("listings", listings)
    rows.append(_row("listings (jsonl.gz)", listings["papers"], listings))

    if not skip_snapshot:
        small_records = _small(records)
        small, large = work / "snapshot-small.jsonl", work / "snapshot-large.jsonl"
        print(
            f"[snapshot] generating {records:,} + {small_records:,} records in {work}: the real "
            "listings corpus in the snapshot schema, repeated with re-numbered ids",
            flush=True,
        )
        start = time.perf_counter()
        # In a child too: ru_maxrss survives fork+exec, so the parent must stay small.
        command = [sys.executable, __file__, "--generate", str(large), str(small)]
        subprocess.run([*command, "--records", str(records)], check=True)
        print(
            f"    generated {large.stat().st_size / 2**20:,.0f} MiB in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
        results = {}
        for n, path in ((small_records, small), (records, large)):
            print(f"[snapshot] importing {n:,} records (fresh child process)", flush=True)
            results[n] = run_child("snapshot", path, work / f"{path.stem}.sqlite")
            _print_result(f"snapshot {n:,}", results[n])
            rows.append(_row("snapshot (jsonl)", n, results[n]))
            if results[n]["rows"] != n:
                print(f"    WARNING: expected {n:,} rows, found {results[n]['rows']:,}")

    header = [
        "format",
        "records",
        "rows",
        "store s",
        "papers/s",
        "parse/s",
        "store/parse",
        "peak MiB",
        f">={TARGET:,}/s",
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    print("\nSummary (SQLite; store/parse = import time over parse-only time, same process)")
    for line in (header, ["-" * w for w in widths], *rows):
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    if not skip_snapshot:
        ratio = results[records]["rss_mib"] / results[small_records]["rss_mib"]
        print(
            f"peak RSS {records:,} / {small_records:,} records = {ratio:.2f} "
            "(~1.0: memory does not grow with file size)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="snapshot records (1M)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep generated files there")
    parser.add_argument("--skip-snapshot", action="store_true", help="listings file only")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate_snapshots(*args.generate, args.records, _small(args.records))
    elif args.child:
        kind, path, db = args.child
        child(kind, Path(path), Path(db))
    elif args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        bench(args.keep, args.records, args.skip_snapshot)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as work:
            bench(Path(work), args.records, args.skip_snapshot)


if __name__ == "__main__":
    main()
