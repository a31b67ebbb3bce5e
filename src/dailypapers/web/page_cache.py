"""Pages as anonymous readers see them, rendered once per data version and then reused.

A list page costs tens of milliseconds of queries and template. A handler marks a page it
made for an anonymous reader with `share_with_anonymous`; `PageCache`, a middleware in front
of the whole app, keeps it and answers the same path and query with it (one small query,
no routing, no template) while nobody signed in asks and no data has changed.

The key holds the data version (`storage.store.versions`), which every committed write but a
vote moves on, so a change shows on the very next request whichever worker process serves
it. A vote moves the votes version instead and marks its paper and day: a page that says
which votes it shows (`VoteScope`: a paper's page its paper, a list its days) is kept
through votes on other papers, one more small query telling; other pages are made again
after any vote. The versions are read before the page's data, so a page is never older than
what it was kept with.

Anonymous readers' pages differ only in their CSRF token, which is swapped in on the way
out: only pages whose token is one the site makes (a client may send any cookie) and
appears nowhere but in the forms' csrf_token fields are kept, and the reader's token is
escaped as the template would escape it.

A page that holds the time (the daily page's next announcement) says until when it is right
(`share_with_anonymous(request, until)`); past that time, by the site's clock, it is made
afresh.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from threading import Lock

from fastapi import Request
from fastapi.responses import Response
from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.storage import Store
from dailypapers.storage.store import versions
from dailypapers.storage.votes import votes_marked
from dailypapers.web.deps import SESSION_COOKIE, site_now
from dailypapers.web.render import csrf_token, remember_csrf, wants_json

SHARED = "dailypapers.shared_page"  # scope key: set to the page's CSRF token by a handler
SHARED_UNTIL = "dailypapers.shared_until"  # scope key: when the shared page stops being right
SHARED_VOTES = "dailypapers.shared_votes"  # scope key: the VoteScope of the shared page
SITE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24), as render makes
PER_REQUEST_HEADERS = {"content-length", "set-cookie"}
# Version, local and UTC day (a page may show either), path, query string.
Key = tuple[int, date, date, str, str]


@dataclass(frozen=True)
class VoteScope:
    """The votes a page shows: those for `paper_id` and for the papers of `days` (first,
    last)."""

    paper_id: str | None = None
    days: tuple[date, date] | None = None


def share_with_anonymous(
    request: Request, until: datetime | None = None, votes_of: VoteScope | None = None
) -> None:
    """Let PageCache keep this page: it was made for an anonymous reader, as HTML; with
    `until`, only until then (an aware time of the site's clock); with `votes_of`, through
    votes for other papers (without, it is made again after any vote)."""
    token = csrf_token(request)
    if SITE_TOKEN.fullmatch(token):
        request.scope[SHARED] = token
        request.scope[SHARED_UNTIL] = until
        request.scope[SHARED_VOTES] = votes_of


def _token_field(token: str) -> bytes:
    return f'name="csrf_token" value="{escape(token)}"'.encode()


@dataclass(frozen=True)
class CachedPage:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    token: str  # the CSRF token it was rendered with
    votes_seen: int  # the votes version it was made at
    until: datetime | None = None  # when it stops being right; None: while the data stays
    votes_of: VoteScope | None = None

    def expired(self, request: Request) -> bool:
        return self.until is not None and site_now(request) >= self.until

    def response(self, request: Request) -> Response:
        token = csrf_token(request)
        body = self.body.replace(_token_field(self.token), _token_field(token))
        response = Response(body, self.status)
        response.raw_headers = [*self.headers, *response.raw_headers]  # + content-length
        remember_csrf(request, response)
        return response


class PageCache:
    """ASGI middleware keeping the most recently used shared pages of this worker process, up
    to `budget` bytes of bodies; pages of older versions simply age out."""

    def __init__(self, app: ASGIApp, budget: int = 64 * 2**20) -> None:
        self.app = app
        self.budget = budget
        self._pages: OrderedDict[Key, CachedPage] = OrderedDict()
        self._held = 0  # bytes of the bodies kept
        self._lock = Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if _signed_in(request) or wants_json(request):
            await self.app(scope, receive, send)
            return
        key, votes = await run_in_threadpool(_key, request)
        page = self._get(key)
        if page is not None and not page.expired(request):
            current = await self._through_votes(key, page, votes, request)
            if current is not None:
                await current.response(request)(scope, receive, send)
                return
        await self._keep(key, votes, scope, receive, send)

    async def _through_votes(
        self, key: Key, page: CachedPage, votes: int, request: Request
    ) -> CachedPage | None:
        """The page if no vote since it was made touched what it shows; None otherwise."""
        if page.votes_seen == votes:
            return page
        if page.votes_of is None:
            return None
        scope = page.votes_of
        store: Store = request.app.state.store

        def touched() -> bool:
            with store.read() as connection:
                return votes_marked(connection, page.votes_seen, scope.paper_id, scope.days)

        if await run_in_threadpool(touched):
            return None
        current = replace(page, votes_seen=votes)
        self._put(key, current)
        return current

    async def _keep(self, key: Key, votes: int, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app and keep the page if its handler shared it."""
        sent: list[Message] = []

        async def recording(message: Message) -> None:
            sent.append(message)
            await send(message)

        await self.app(scope, receive, recording)
        token = scope.get(SHARED)
        start = next(m for m in sent if m["type"] == "http.response.start")
        if token is None or start["status"] != 200:
            return
        headers = [
            (name, value)
            for name, value in start.get("headers", [])
            if name.decode("latin-1").lower() not in PER_REQUEST_HEADERS
        ]
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        if body.count(token.encode()) == body.count(_token_field(token)):  # only in the forms
            until, votes_of = scope[SHARED_UNTIL], scope[SHARED_VOTES]
            page = CachedPage(start["status"], headers, body, token, votes, until, votes_of)
            self._put(key, page)

    def _get(self, key: Key) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def _put(self, key: Key, page: CachedPage) -> None:
        with self._lock:
            replaced = self._pages.pop(key, None)
            self._held -= len(replaced.body) if replaced else 0
            self._pages[key] = page
            self._held += len(page.body)
            while self._held > self.budget and self._pages:
                _, oldest = self._pages.popitem(last=False)
                self._held -= len(oldest.body)


def _signed_in(request: Request) -> bool:
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies


def _key(request: Request) -> tuple[Key, int]:
    """The page's key, and the votes version."""
    store: Store = request.app.state.store
    with store.read() as connection:
        now = versions(connection)  # first: the page's data is read after it
    today, utc_today = date.today(), datetime.now(UTC).date()
    return (now.data, today, utc_today, request.url.path, request.url.query), now.votes
