"""A paper's page and its upvotes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dailypapers.storage.comments import paper_comments
from dailypapers.storage.papers import paper_hidden
from dailypapers.storage.votes import add_vote, remove_vote, vote_counts, voted_by
from dailypapers.web.comments_html import threaded
from dailypapers.web.deps import CsrfDep, ReadDep, SearchDep, StoreDep, UserDep, ViewerDep
from dailypapers.web.lists import check_visible, code_links, hits_out, paper_entry
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.schemas import EntryOut, PaperPage, VoteOut

router = APIRouter()
SIMILAR_ON_PAGE = 6


@router.get("/papers/{paper_id:arxiv}", response_class=HTMLResponse, summary="A paper")
@router.get("/papers/{paper_id:arxiv}.json", response_model=PaperPage, summary="A paper")
def paper(
    request: Request, paper_id: str, connection: ReadDep, viewer: ViewerDep, search: SearchDep
) -> Response:
    is_admin = viewer is not None and viewer.is_admin
    entry = paper_entry(connection, paper_id, viewer.id if viewer else None, show_hidden=is_admin)
    nearest = search.similar(paper_id, SIMILAR_ON_PAGE, encode=False, connection=connection)
    data = PaperPage(
        entry=EntryOut.of(entry),
        code_links=code_links(entry.paper),
        comments=threaded(paper_comments(connection, paper_id)),
        hidden=paper_hidden(connection, paper_id) or False,
        similar=hits_out(connection, search, nearest),
    )
    return respond(request, "paper.html", data)


@router.post(
    "/papers/{paper_id:arxiv}/vote",
    response_model=VoteOut,
    dependencies=[CsrfDep, RateLimit("votes")],
    summary="Upvote a paper, or take the upvote back",
)
def vote(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: UserDep,
    action: Annotated[Literal["toggle", "up", "clear"], Query()] = "toggle",
) -> Response:
    with store.transaction() as connection:
        check_visible(connection, paper_id, viewer.is_admin)
        # toggle takes back a vote that was there already; clear takes it back in any case
        added = action != "clear" and add_vote(connection, viewer.id, paper_id, datetime.now(UTC))
        if action == "clear" or (action == "toggle" and not added):
            remove_vote(connection, viewer.id, paper_id)
        upvotes = vote_counts(connection, [paper_id])[paper_id]
        voted = paper_id in voted_by(connection, viewer.id, [paper_id])
    result = VoteOut(paper_id=paper_id, upvotes=upvotes, voted=voted)
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, f"/papers/{paper_id}"), 303)
