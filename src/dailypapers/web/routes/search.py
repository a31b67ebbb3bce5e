"""The search page and its JSON twin, and a paper's similar papers."""

from __future__ import annotations

from collections import Counter
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.search.query import MAX_QUERY_CHARS
from dailypapers.search.service import Mode
from dailypapers.storage.library import saved_tags
from dailypapers.web.deps import ReadDep, SearchDep, ViewerDep
from dailypapers.web.lists import (
    CategoriesQuery,
    check_visible,
    checked_categories,
    chip_context,
    hits_out,
    run_search,
)
from dailypapers.web.render import respond
from dailypapers.web.schemas import SearchHitOut, SearchPage, SimilarPage

router = APIRouter()
PAGE_SIZE = 20
SIMILAR = 10
OFFERED_CHIPS = 12  # the most frequent categories of the results, offered as chips


@router.get("/search", response_class=HTMLResponse, summary="Search papers")
@router.get("/search.json", response_model=SearchPage, summary="Search papers")
def search(
    request: Request,
    connection: ReadDep,
    service: SearchDep,
    viewer: ViewerDep,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description='Words, "exact phrases", author:name, cat:cs.LG, after:/before:YYYY-MM-DD;'
            " or an arXiv id or URL, which finds that paper alone.",
        ),
    ] = "",
    mode: Annotated[Mode, Query(description="hybrid, keyword or semantic.")] = "hybrid",
    page: Annotated[int, Query(ge=1, le=50, description="Page number, from 1.")] = 1,
    categories: CategoriesQuery = None,
) -> Response:
    chosen = checked_categories(categories)
    results = run_search(
        connection, service, q, mode, PAGE_SIZE, (page - 1) * PAGE_SIZE, categories=chosen
    )
    paper_id = results.query.paper_id
    hits = hits_out(connection, service, results.hits, results.query.words)
    if viewer is not None:
        tags = saved_tags(connection, viewer.id, [hit.id for hit in hits])
        hits = [hit.model_copy(update={"saved": tags.get(hit.id, [])}) for hit in hits]
    data = SearchPage(
        q=q,
        mode=mode,
        categories=chosen,
        total=results.total,
        page=page,
        pages=max(1, ceil(results.total / PAGE_SIZE)),
        results=hits,
        paper_id=paper_id,
        missing_paper=paper_id if paper_id and not results.total else None,
        author=results.author,
        corrected=results.corrected or {},
    )
    chips = chip_context(request, _offered(hits), chosen) if q else {}
    # this search's parameters, for its other pages and its JSON
    params = [("q", q), ("mode", mode), *(("category", category) for category in chosen)]
    return respond(request, "search.html", data, params=params, **chips)


def _offered(hits: list[SearchHitOut]) -> list[str]:
    counts = Counter(category for hit in hits for category in hit.categories)
    return [category for category, _ in counts.most_common(OFFERED_CHIPS)]


@router.get(
    "/papers/{paper_id:arxiv}/similar.json",
    response_model=SimilarPage,
    summary="The papers closest in meaning to one paper",
)
def similar(paper_id: str, connection: ReadDep, service: SearchDep) -> SimilarPage:
    check_visible(connection, paper_id)
    nearest = service.similar(paper_id, SIMILAR, connection=connection)
    return SimilarPage(paper_id=paper_id, results=hits_out(connection, service, nearest))
