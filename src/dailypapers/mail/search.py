"""Saved searches run through the site's search service, restricted to a digest's days."""

from __future__ import annotations

from datetime import date

from dailypapers.config import Settings
from dailypapers.mail.selection import SEARCH_COUNTED, SearchFunction
from dailypapers.storage import Store


def search_function(settings: Settings, store: Store) -> SearchFunction:
    """Keyword search (deterministic, and no encoder to load for a mail run) over the feed
    days [first, last]: the window's filters come last in the query, so they win over any
    `after:`/`before:` of the saved search itself."""
    # Imported here: runs without saved searches need none of the search stack.
    from dailypapers.search.query import QueryError
    from dailypapers.search.service import SearchService

    service = SearchService(settings, store)

    def matching(query: str, first: date, last: date) -> list[str]:
        try:
            found = service.search(
                f"{query} after:{first} before:{last}",
                mode="keyword",
                limit=SEARCH_COUNTED,
                every_word=True,  # an alert is for papers with all of its words
            )
        except QueryError:  # saved before the query language refused it
            return []
        return [hit.paper_id for hit in found.hits]

    return matching
