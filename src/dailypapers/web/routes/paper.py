"""A paper's page, its citation and its upvotes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dailypapers.library.citation import bibtex, citation_key
from dailypapers.models import User
from dailypapers.search.service import SearchService
from dailypapers.storage import Store
from dailypapers.storage.comments import paper_comments
from dailypapers.storage.profiles import voters
from dailypapers.storage.views import record_view
from dailypapers.storage.votes import add_vote, mark_vote, remove_vote, vote_counts, voted_by
from dailypapers.web.comments_html import threaded
from dailypapers.web.deps import CsrfDep, ReadDep, SearchDep, StoreDep, ViewerDep
from dailypapers.web.lists import check_visible, code_links, entry_on_day, hits_out, paper_entry
from dailypapers.web.page_cache import VoteScope, share_with_anonymous
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.schemas import EntryOut, PaperPage, VoteOut

log = logging.getLogger(__name__)
router = APIRouter()
SIMILAR_ON_PAGE = 6
UPVOTERS_ON_PAGE = 20


def paper_page(
    connection: Connection, paper_id: str, viewer: User | None, search: SearchService
) -> PaperPage:
    """What a paper's page shows; 404 for an unknown paper, or a hidden one but to admins."""
    shown = check_visible(connection, paper_id, show_hidden=viewer is not None and viewer.is_admin)
    entry = entry_on_day(connection, paper_id, shown, viewer.id if viewer else None)
    nearest = search.similar(paper_id, SIMILAR_ON_PAGE, encode=False, connection=connection)
    names = voters(connection, paper_id, UPVOTERS_ON_PAGE)
    return PaperPage(
        entry=EntryOut.of(entry),
        code_links=code_links(entry.paper),
        comments=threaded(paper_comments(connection, paper_id)),
        hidden=shown.hidden,
        similar=hits_out(connection, search, nearest),
        upvoters=names,
        other_upvotes=max(entry.upvotes - len(names), 0),
        bibtex=bibtex(entry.paper),
    )


def show_paper(
    request: Request,
    connection: Connection,
    paper_id: str,
    viewer: User | None,
    search: SearchService,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The paper's page; `context` says what a refused form held (see routes/comments.py)."""
    page = paper_page(connection, paper_id, viewer, search)
    return respond(request, "paper.html", page, status_code, **context)


def _remember_view(store: Store, connection: Connection, user_id: int, paper_id: str) -> None:
    """On the request's connection, once the page is built: bookkeeping, since no shared page
    shows it (a reader's own lists are never cached), and a page never fails over it."""
    try:
        with store.bookkeeping(connection) as writing:
            record_view(writing, user_id, paper_id, datetime.now(UTC))
    except SQLAlchemyError as error:
        log.warning("could not record that user %s opened %s: %s", user_id, paper_id, error)


@router.get("/papers/{paper_id:arxiv}", response_class=HTMLResponse, summary="A paper")
@router.get("/papers/{paper_id:arxiv}.json", response_model=PaperPage, summary="A paper")
def paper(
    request: Request,
    paper_id: str,
    connection: ReadDep,
    store: StoreDep,
    viewer: ViewerDep,
    search: SearchDep,
) -> Response:
    response = show_paper(request, connection, paper_id, viewer, search)
    if viewer is not None:
        _remember_view(store, connection, viewer.id, paper_id)
    else:
        share_with_anonymous(request, votes_of=VoteScope(paper_id))  # PageCache keeps HTML only
    return response


@router.get(
    "/papers/{paper_id:arxiv}.bib",
    response_class=Response,
    responses={200: {"content": {"application/x-bibtex": {}}}},
    summary="A paper's BibTeX entry",
)
def paper_bibtex(paper_id: str, connection: ReadDep, viewer: ViewerDep) -> Response:
    entry = paper_entry(connection, paper_id, None, show_hidden=bool(viewer and viewer.is_admin))
    # The key is letters and digits only: safe in a header.
    disposition = f'attachment; filename="{citation_key(entry.paper)}.bib"'
    return Response(
        bibtex(entry.paper),
        media_type="application/x-bibtex; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


def login_to_vote(request: Request, paper_id: str) -> str:
    """The log-in page that upvotes the paper once signed in, then goes back to where the
    vote was asked for, at the paper's entry."""
    back = same_site_referer(request, "/").split("#")[0]
    return "/login?" + urlencode({"next": f"{back}#p-{paper_id}", "vote": paper_id})


@router.post(
    "/papers/{paper_id:arxiv}/vote",
    response_model=VoteOut,
    dependencies=[CsrfDep, RateLimit("votes")],
    responses={401: {"description": "Signed out: the X-Login header is the page to log in"}},
    summary="Upvote a paper, or take the upvote back",
)
def vote(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: ViewerDep,
    action: Annotated[Literal["toggle", "up", "clear"], Query()] = "toggle",
) -> Response:
    json_client = wants_json(request) or request.state.by_token
    if viewer is None:
        login = login_to_vote(request, paper_id)
        if json_client:  # vote.js goes to the log-in page itself
            raise HTTPException(401, "sign in first", headers={"X-Login": login})
        return RedirectResponse(login, 303)
    with store.voting() as connection:
        shown = check_visible(connection, paper_id, viewer.is_admin)
        # toggle takes back a vote that was there already; clear takes it back in any case
        added = action != "clear" and add_vote(connection, viewer.id, paper_id, datetime.now(UTC))
        removed = (action == "clear" or (action == "toggle" and not added)) and remove_vote(
            connection, viewer.id, paper_id
        )
        if added or removed:
            mark_vote(connection, paper_id, shown.day)
        upvotes = vote_counts(connection, [paper_id])[paper_id]
        voted = paper_id in voted_by(connection, viewer.id, [paper_id])
    result = VoteOut(paper_id=paper_id, upvotes=upvotes, voted=voted)
    if json_client:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, f"/papers/{paper_id}"), 303)
