"""Admins' pages: the jobs and the workers alive (/admin/jobs), and what the site follows on
arXiv (/admin/follows), with forms to follow more categories and to stop following one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.taxonomy import check_follows, split_follow_setting
from dailypapers.jobs.kinds import plan_backfill
from dailypapers.jobs.queue import QUEUED, JobRow, list_jobs, workers_alive
from dailypapers.jobs.site import WORKER_ALIVE_S
from dailypapers.storage.follows import (
    FollowError,
    add_follows,
    check_since,
    followed,
    remove_follows,
)
from dailypapers.web.deps import AdminDep, CsrfDep, ReadDep, StoreDep, site_now
from dailypapers.web.render import respond, wants_json
from dailypapers.web.schemas import FollowOut, FollowsPage, JobOut, JobsPage, WorkerOut

router = APIRouter()
MAX_CATEGORIES_CHARS = 1000  # some fifty categories at once
CategoriesField = Annotated[
    str, Form(description="Categories or archives, separated by spaces or commas: cs.LG cs.CL")
]
SinceField = Annotated[
    str, Form(description="Optional: also harvest their history from this day, YYYY-MM-DD.")
]


def _job_out(job: JobRow) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        key=job.key,
        state=job.state,
        next_run=job.run_at if job.state == QUEUED else None,
        attempts=job.attempts,
        runs=job.runs,
        last_started=job.last_started,
        last_finished=job.last_finished,
        last_duration=job.last_duration,
        last_result=job.last_result,
        last_error=job.last_error,
        worker_id=job.worker_id,
        lease_until=job.lease_until,
        alerted_at=job.alerted_at,
    )


@router.get("/admin/jobs", response_class=HTMLResponse, summary="Jobs and workers (admins)")
@router.get("/admin/jobs.json", response_model=JobsPage, summary="Jobs and workers (admins)")
def jobs_page(request: Request, connection: ReadDep, admin: AdminDep) -> Response:
    now = site_now(request)
    rows = list_jobs(connection)
    keys = {job.id: job.key for job in rows}
    alive = workers_alive(connection, now, WORKER_ALIVE_S)
    data = JobsPage(
        now=now,
        jobs=[_job_out(job) for job in rows],
        workers=[
            WorkerOut(
                id=worker.id,
                host=worker.host,
                pid=worker.pid,
                device=worker.device,
                started_at=worker.started_at,
                heartbeat_at=worker.heartbeat_at,
                job_id=worker.job_id,
                job_key=keys.get(worker.job_id) if worker.job_id is not None else None,
            )
            for worker in alive
        ],
        workers_alive_within_s=WORKER_ALIVE_S,
    )
    return respond(request, "admin_jobs.html", data)


def _follows(connection: Connection) -> list[FollowOut]:
    return [
        FollowOut(category=f.category, since=f.since, added_at=f.added_at)
        for f in followed(connection)
    ]


@router.get("/admin/follows", response_class=HTMLResponse, summary="What the site follows")
@router.get("/admin/follows.json", response_model=FollowsPage, summary="What the site follows")
def follows_page(request: Request, connection: ReadDep, admin: AdminDep) -> Response:
    return respond(request, "admin_follows.html", FollowsPage(follows=_follows(connection)))


def _refused(field: str, problem: str) -> HTTPException:
    return HTTPException(400, problem, headers={"X-Field": field})


def _names(text: str) -> list[str]:
    """The categories asked for, known to arXiv, or a 400 with the reason."""
    if len(text) > MAX_CATEGORIES_CHARS:
        raise _refused("categories", f"at most {MAX_CATEGORIES_CHARS} characters at once")
    try:
        names = check_follows(split_follow_setting(text))
    except IngestError as error:
        raise _refused("categories", str(error)) from None
    if not names:
        raise _refused("categories", "name a category, such as cs.LG, or an archive, such as cs")
    return names


def _since(text: str, today: date) -> date | None:
    if not text.strip():
        return None
    try:
        since = date.fromisoformat(text.strip()) if len(text) <= 32 else None
    except ValueError:
        since = None
    if since is None:
        raise _refused("since", f"since={text[:32]!r} is not a day like 2025-01-01")
    try:
        return check_since(since, today)
    except FollowError as error:
        raise _refused("since", str(error)) from None


def _changed(request: Request, data: FollowsPage) -> Response:
    if wants_json(request) or request.state.by_token:
        return JSONResponse(data.model_dump(mode="json"))
    return RedirectResponse("/admin/follows", 303)


def _refusal(
    request: Request, store: StoreDep, error: HTTPException, categories: str, since: str
) -> Response:
    """The form again, with what was typed and why it was refused."""
    if wants_json(request) or request.state.by_token:
        raise error
    with store.read() as connection:
        data = FollowsPage(follows=_follows(connection), error=str(error.detail))
    typed = {"categories": categories[:MAX_CATEGORIES_CHARS], "since": since[:32]}
    page = respond(request, "admin_follows.html", data, error.status_code, typed=typed)
    page.headers.update(error.headers or {})
    return page


@router.post(
    "/admin/follows",
    response_model=FollowsPage,
    dependencies=[CsrfDep],
    summary="Follow arXiv categories; with `since`, harvest their history too (admins)",
)
@router.post(
    "/admin/follows.json",
    response_model=FollowsPage,
    dependencies=[CsrfDep],
    summary="Follow arXiv categories; with `since`, harvest their history too (admins)",
)
def follow(
    request: Request,
    store: StoreDep,
    admin: AdminDep,
    categories: CategoriesField = "",
    since: SinceField = "",
) -> Response:
    now: datetime = site_now(request)
    try:
        names = _names(categories)
        first = _since(since, now.date())
    except HTTPException as error:
        return _refusal(request, store, error, categories, since)
    with store.transaction() as connection:
        add_follows(connection, names, now, since=first)
    queued = plan_backfill(store, names, first, now.date(), now) if first else 0
    with store.read() as connection:
        data = FollowsPage(follows=_follows(connection), added=names, backfill_jobs=queued)
    return _changed(request, data)


@router.post(
    "/admin/follows/remove",
    response_model=FollowsPage,
    dependencies=[CsrfDep],
    summary="Stop following arXiv categories (admins)",
)
@router.post(
    "/admin/follows/remove.json",
    response_model=FollowsPage,
    dependencies=[CsrfDep],
    summary="Stop following arXiv categories (admins)",
)
def unfollow(
    request: Request, store: StoreDep, admin: AdminDep, categories: CategoriesField = ""
) -> Response:
    now = site_now(request)
    if len(categories) > MAX_CATEGORIES_CHARS:
        error = _refused("categories", f"at most {MAX_CATEGORIES_CHARS} characters at once")
        return _refusal(request, store, error, "", "")
    names = split_follow_setting(categories)
    with store.transaction() as connection:
        removed = remove_follows(connection, names, now) if names else []
        data = FollowsPage(follows=_follows(connection), removed=removed)
    if not removed:
        shown = ", ".join(name[:64] for name in names[:10]) or "nothing named"
        error = HTTPException(404, f"not followed: {shown}", headers={"X-Field": "categories"})
        return _refusal(request, store, error, "", "")
    return _changed(request, data)
