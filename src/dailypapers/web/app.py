"""`create_app(settings, store)`: the site and its JSON API, built per process, never at import."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from dailypapers import __version__
from dailypapers.config import Settings
from dailypapers.library.transfer import MAX_IMPORT_BYTES
from dailypapers.models import User
from dailypapers.search.service import SearchService
from dailypapers.storage import Store
from dailypapers.storage.ratelimit import RateLimited
from dailypapers.web.deps import current_viewer
from dailypapers.web.hardening import HeadAsGet, SecurityHeaders
from dailypapers.web.page_cache import PageCache
from dailypapers.web.render import TEMPLATES, csrf_key, csrf_token, wants_json
from dailypapers.web.routes import (
    about,
    accounts,
    admin,
    api_docs,
    comments,
    feeds,
    for_you,
    hf_api,
    library,
    paper,
    papers,
    password_reset,
    search,
    stats,
    submit,
    subscriptions,
    users,
)

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024  # forms and comments
# The one upload: a library file (and its multipart framing).
UPLOADS = {"/library/import": MAX_IMPORT_BYTES + MAX_BODY_BYTES}


class BodyLimit:
    """Refuse request bodies over MAX_BODY_BYTES (413) before any handler reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOADS.get(scope["path"], MAX_BODY_BYTES)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            response = JSONResponse({"error": "request body too large"}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> dict:  # type: ignore[type-arg]
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, limited, send)


async def _error_page_viewer(request: Request) -> User | None:
    """Who an error page is for: the handler's viewer, or read now (an unknown path ran no
    handler). The page must show whatever went wrong, so failing to read is nobody."""
    try:
        return await run_in_threadpool(current_viewer, request, request.app.state.store)
    except Exception as error:  # the database may be what failed
        log.warning("error page shown signed out: %s", type(error).__name__)
        return None


async def _error(request: Request, status: int, message: str, field: str | None = None) -> Response:
    if wants_json(request) or request.url.path.startswith("/api/"):
        body = {"error": message, **({"field": field} if field else {})}
        return JSONResponse(body, status_code=status)
    viewer = await _error_page_viewer(request)
    token = csrf_token(request) if viewer else ""  # the header's log-out form
    context = {"status": status, "message": message, "viewer": viewer, "csrf_token": token}
    return TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        field = (error.headers or {}).get("X-Field")
        response = await _error(request, error.status_code, str(error.detail), field)
        response.headers.update(error.headers or {})  # Retry-After of a 429, say
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        return await _error(request, 400, f"{field}: {first.get('msg', 'invalid')}", field)

    @app.exception_handler(RateLimited)
    async def too_many(request: Request, error: RateLimited) -> Response:
        seconds = error.retry_after
        wait = f"{-(-seconds // 60)} min" if seconds >= 120 else f"{seconds} s"
        response = await _error(request, 429, f"{error}: try again in {wait}")
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(OperationalError)
    async def busy(request: Request, error: OperationalError) -> Response:
        if "database is locked" not in str(error.orig):
            raise error
        # SQLite's one write lock stayed taken past busy_timeout: nothing was written.
        response = await _error(request, 503, "the database is busy: nothing was saved, try again")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(DataError)
    async def unstorable(request: Request, error: DataError) -> Response:
        # PostgreSQL refuses some text that SQLite takes, NUL characters above all.
        return await _error(
            request, 400, "the request holds characters that cannot be stored (NUL?)"
        )


class Site(FastAPI):
    """The app with HEAD and the security headers outside everything, Starlette's own 500
    page included (it sits outside all added middleware)."""

    def build_middleware_stack(self) -> ASGIApp:
        return HeadAsGet(SecurityHeaders(super().build_middleware_stack()))


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = Site(
        # Every page knows who reads it (the header, the lists' votes), whatever it declares.
        dependencies=[Depends(current_viewer)],
        title="dailypapers",
        version=__version__,
        description="The daily feed of research papers, as HTML and JSON.",
        docs_url=None,  # api_docs serves them without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.csrf_key = csrf_key(settings, store)
    app.state.search = SearchService(settings, store)
    app.add_middleware(BodyLimit)
    # Outermost but Site's own: a kept page skips the rest.
    app.add_middleware(PageCache, budget=settings.page_cache_mb * 2**20)
    _install_error_pages(app)
    api_docs.mount_assets(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(papers.router)
    app.include_router(paper.router)
    app.include_router(feeds.router)
    app.include_router(stats.router)
    app.include_router(about.router)
    app.include_router(accounts.router)
    app.include_router(admin.router)
    app.include_router(password_reset.router)
    app.include_router(hf_api.router)
    app.include_router(comments.router)
    app.include_router(submit.router)
    app.include_router(subscriptions.router)
    app.include_router(search.router)
    app.include_router(api_docs.router)
    app.include_router(users.router)
    app.include_router(library.router)
    app.include_router(for_you.router)
    return app
