"""Single papers by arXiv id, through the arXiv query API."""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.ingest.arxiv_api import normalize_arxiv_id, parse_feed
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.http import Fetcher
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers

PAGE = 100  # ids per API request


def fetch_papers(fetcher: Fetcher, api_url: str, ids: Sequence[str]) -> list[Paper]:
    """The papers for these ids (any accepted form); unknown ids are simply absent."""
    wanted = list(dict.fromkeys(normalize_arxiv_id(text)[0] for text in ids))
    found: list[Paper] = []
    for start in range(0, len(wanted), PAGE):
        chunk = wanted[start : start + PAGE]
        params = {"id_list": ",".join(chunk), "max_results": str(len(chunk))}
        found.extend(
            parse_feed(fetcher.get(api_url, params), f"{api_url}?id_list={params['id_list']}")
        )
    return found


def ingest_ids(store: Store, fetcher: Fetcher, api_url: str, ids: Sequence[str]) -> list[Paper]:
    """Fetch and store papers by id; stores what was found, then fails naming what was not."""
    papers = fetch_papers(fetcher, api_url, ids)
    with store.transaction() as connection:
        upsert_papers(connection, papers)
    found = {paper.id for paper in papers}
    missing = [text for text in ids if normalize_arxiv_id(text)[0] not in found]
    if missing:
        raise IngestError(
            f"unknown arXiv id{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
        )
    return papers
