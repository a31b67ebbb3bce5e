"""The search page and its JSON twin, and a paper's similar papers."""

from __future__ import annotations

from math import ceil
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.search.query import MAX_QUERY_CHARS
from dailypapers.search.service import Mode
from dailypapers.web.deps import ReadDep, SearchDep
from dailypapers.web.lists import check_visible, hits_out, run_search
from dailypapers.web.render import respond
from dailypapers.web.schemas import SearchPage, SimilarPage

router = APIRouter()
PAGE_SIZE = 20
SIMILAR = 10


@router.get("/search", response_class=HTMLResponse, summary="Search papers")
@router.get("/search.json", response_model=SearchPage, summary="Search papers")
def search(
    request: Request,
    connection: ReadDep,
    service: SearchDep,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description='Words, "exact phrases", author:name, cat:cs.LG, after:/before:YYYY-MM-DD.',
        ),
    ] = "",
    mode: Annotated[Mode, Query(description="hybrid, keyword or semantic.")] = "hybrid",
    page: Annotated[int, Query(ge=1, le=50, description="Page number, from 1.")] = 1,
) -> Response:
    results = run_search(connection, service, q, mode, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    data = SearchPage(
        q=q,
        mode=mode,
        total=results.total,
        page=page,
        pages=max(1, ceil(results.total / PAGE_SIZE)),
        results=hits_out(connection, service, results.hits, results.query.words),
    )
    return respond(request, "search.html", data)


@router.get(
    "/papers/{paper_id:arxiv}/similar.json",
    response_model=SimilarPage,
    summary="The papers closest in meaning to one paper",
)
def similar(paper_id: str, connection: ReadDep, service: SearchDep) -> SimilarPage:
    check_visible(connection, paper_id)
    nearest = service.similar(paper_id, SIMILAR, connection=connection)
    return SimilarPage(paper_id=paper_id, results=hits_out(connection, service, nearest))
