"""Named dependencies: the store, the person asking, and the CSRF check for forms."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Connection

from dailypapers.accounts import token_hash
from dailypapers.clock import ClockError, clock_of
from dailypapers.models import User
from dailypapers.search.service import SearchService
from dailypapers.storage import Store
from dailypapers.storage.users import session_user, token_user
from dailypapers.web.render import SESSION_COOKIE, csrf_token

log = logging.getLogger(__name__)


def site_now(request: Request) -> datetime:
    """The site's time: the clock file's, when settings name one (tests, rehearsals). A clock
    file that holds no time is logged and the system's clock used: pages only show the time,
    and a page for every reader must not fail over it."""
    try:
        return clock_of(request.app.state.settings).now()
    except ClockError as error:
        log.warning("%s: showing the system's time", error)
        return datetime.now(UTC)


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]


def get_search(request: Request) -> SearchService:
    return request.app.state.search  # type: ignore[no-any-return]


SearchDep = Annotated[SearchService, Depends(get_search)]


def read_connection(request: Request, store: StoreDep) -> Iterator[Connection]:
    """The request's one connection: what else it reads while holding it (the viewer, search)
    reads on it too (`request_connection`). A request that checked out a second one while
    holding the first would deadlock the pool as soon as every connection was so held."""
    with store.read() as connection:
        request.state.connection = connection
        try:
            yield connection
        finally:
            del request.state.connection


ReadDep = Annotated[Connection, Depends(read_connection)]


def request_connection(request: Request) -> Connection | None:
    """The connection the request holds (ReadDep), if it holds one: pass it to `store.read`."""
    return getattr(request.state, "connection", None)


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def current_viewer(request: Request, store: StoreDep) -> User | None:
    """The signed-in user (session cookie or API token), or None; banned users are nobody."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer  # type: ignore[no-any-return]
    viewer = None
    bearer = _bearer(request)
    session = request.cookies.get(SESSION_COOKIE)
    if bearer or session:
        with store.read(request_connection(request)) as connection:
            if bearer:
                viewer = token_user(connection, token_hash(bearer))
            else:
                viewer = session_user(connection, token_hash(session or ""), datetime.now(UTC))
    request.state.viewer = None if viewer is None or viewer.banned else viewer
    request.state.by_token = bool(bearer)
    return request.state.viewer  # type: ignore[no-any-return]


ViewerDep = Annotated[User | None, Depends(current_viewer)]


async def check_csrf(request: Request, viewer: ViewerDep) -> None:
    """Forms and in-page scripts must send the token their page carried (render.csrf_token:
    bound to the session, or to the signed anonymous cookie). Only a request that a valid
    API token authenticated is exempt: a browser never sends one on its own."""
    if request.state.by_token and viewer is not None:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf_token", ""))
    if not sent or not secrets.compare_digest(sent, csrf_token(request)):
        raise HTTPException(403, "the form expired or came from another site: reload and retry")


CsrfDep = Depends(check_csrf)


def require_user(viewer: ViewerDep) -> User:
    if viewer is None:
        raise HTTPException(401, "sign in first")
    return viewer


UserDep = Annotated[User, Depends(require_user)]


def require_admin(viewer: UserDep) -> User:
    if not viewer.is_admin:
        raise HTTPException(403, "only admins may do that")
    return viewer


AdminDep = Annotated[User, Depends(require_admin)]
