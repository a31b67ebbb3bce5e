"""Submitting a paper by arXiv id or URL: fetched from arXiv, then on today's list with its
submitter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dailypapers.config import Settings
from dailypapers.ingest.arxiv_api import normalize_arxiv_id
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.http import Fetcher, OutOfTime
from dailypapers.ingest.lookup import fetch_papers
from dailypapers.models import Paper, Submission
from dailypapers.storage import Store
from dailypapers.storage.papers import get_submissions, paper_hidden
from dailypapers.storage.upserts import upsert_papers, upsert_submissions
from dailypapers.web.deps import CsrfDep, StoreDep, UserDep, ViewerDep
from dailypapers.web.outbound import OutboundCalls
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond, wants_json
from dailypapers.web.schemas import SubmissionOut, SubmitForm

router = APIRouter()
MAX_INPUT_CHARS = 200  # far more than the longest arXiv URL
ArxivIdField = Annotated[str, Form(description="An arXiv id (2401.12345) or abs/pdf URL.")]


def _bad_input(problem: str) -> HTTPException:
    return HTTPException(400, problem, headers={"X-Field": "arxiv_id"})


def _paper_id(text: str) -> str:
    """The id without version, or a 400 that says what is wrong with the input."""
    if not text.strip():
        raise _bad_input("enter an arXiv id or URL, such as 2401.12345")
    if len(text) > MAX_INPUT_CHARS:
        raise _bad_input(f"not an arXiv id: longer than {MAX_INPUT_CHARS} characters")
    try:
        return normalize_arxiv_id(text)[0]
    except IngestError as error:
        raise _bad_input(str(error)) from None


def _outbound(request: Request) -> OutboundCalls:
    """One per app, made on first use (on the event loop: no race)."""
    if not hasattr(request.app.state, "outbound"):
        request.app.state.outbound = OutboundCalls(request.app.state.settings)
    return request.app.state.outbound  # type: ignore[no-any-return]


async def _fetch(outbound: OutboundCalls, settings: Settings, paper_id: str) -> Paper:
    """The paper from the arXiv API, off the request threads and within web_fetch_timeout:
    404 when arXiv does not know it, 502 when it fails us, 504 when it is too slow."""
    fetcher = Fetcher.for_site(settings, deadline=settings.web_fetch_timeout)
    try:
        found = await outbound.call(
            lambda: fetch_papers(fetcher, settings.arxiv_api_url, [paper_id])
        )
    except OutOfTime as error:
        raise HTTPException(
            504, f"arXiv did not answer in time, try again later: {error}"
        ) from None
    except IngestError as error:
        raise HTTPException(502, f"arXiv did not answer, try again later: {error}") from None
    for paper in found:
        if paper.id == paper_id:
            return paper
    raise HTTPException(404, f"arXiv has no paper {paper_id}")


def _hidden(store: Store, paper_id: str) -> bool | None:
    with store.read() as connection:
        return paper_hidden(connection, paper_id)


def _record(
    store: Store, fetched: list[Paper], paper_id: str, username: str
) -> tuple[Submission, bool]:
    with store.transaction() as connection:
        upsert_papers(connection, fetched)
        earlier = get_submissions(connection, [paper_id]).get(paper_id)
        if earlier is not None:
            return earlier, False
        submission = Submission(paper_id, datetime.now(UTC), username, upvotes=0, source="local")
        upsert_submissions(connection, [submission])
    return submission, True


async def submit_paper(
    request: Request, store: Store, text: str, username: str
) -> tuple[Submission, bool]:
    """Put the paper on today's list; (its submission, whether it is new). A paper submitted
    before keeps its first submission; one already stored is not fetched again. A user has
    a few submissions pending at once, no more (429)."""
    paper_id = _paper_id(text)
    outbound = _outbound(request)
    with outbound.pending(username):
        hidden = await run_in_threadpool(_hidden, store, paper_id)
        if hidden:
            raise HTTPException(403, f"paper {paper_id} was hidden by an admin")
        settings = request.app.state.settings
        fetched = [await _fetch(outbound, settings, paper_id)] if hidden is None else []
        return await run_in_threadpool(_record, store, fetched, paper_id, username)


@router.get("/submit", response_class=HTMLResponse, summary="The form to submit a paper")
def submit_form(
    request: Request,
    viewer: ViewerDep,
    arxiv_id: Annotated[str, Query(description="Fills the form in (search offers it).")] = "",
) -> Response:
    return respond(request, "submit.html", SubmitForm(arxiv_id=arxiv_id[:MAX_INPUT_CHARS]))


@router.post(
    "/submit",
    response_model=SubmissionOut,
    dependencies=[CsrfDep, RateLimit("submissions")],
    summary="Submit a paper by arXiv id or URL",
)
@router.post(
    "/submit.json",
    response_model=SubmissionOut,
    status_code=201,
    dependencies=[CsrfDep, RateLimit("submissions")],
    summary="Submit a paper by arXiv id or URL",
)
async def submit(
    request: Request, store: StoreDep, viewer: UserDep, arxiv_id: ArxivIdField = ""
) -> Response:
    json = wants_json(request) or request.state.by_token
    try:
        submission, new = await submit_paper(request, store, arxiv_id, viewer.username)
    except HTTPException as error:
        if json:
            raise
        data = SubmitForm(arxiv_id=arxiv_id[:MAX_INPUT_CHARS], error=error.detail)
        page = respond(request, "submit.html", data, error.status_code)
        page.headers.update(error.headers or {})
        return page
    if not json:
        return RedirectResponse(f"/papers/{submission.paper_id}", 303)
    result = SubmissionOut(
        paper_id=submission.paper_id,
        submitted_by=submission.submitted_by,
        day=submission.submitted_at.date(),
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if new else 200)
