"""What every response carries, and HEAD for every GET: two ASGI middlewares outside the page
cache, so that pages it replays get the same treatment.

Cache-Control, decided here for every page at once:
- `no-store` on every response to a signed-in request (session cookie or API token: the
  pages name the user, carry their CSRF token and may show a new API token once) and on the
  pages whose address or content holds a secret for anyone (`SECRET_PAGES`: sign-in forms,
  the account, password-reset and subscription links that carry signed tokens);
- `private` on other HTML: it carries the reader's CSRF token, which no shared cache may
  hand to someone else;
- nothing on static files, feeds and anonymous JSON, which any cache may keep.
A handler that sets Cache-Control itself keeps it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.deps import SESSION_COOKIE

SITE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc set inline styles and ReDoc starts a worker from a blob; their pages
# show our own schema only.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_PAGES = ("/docs", "/redoc")
SECRET_PAGES = (
    *("/account", "/login", "/signup", "/forgot", "/reset/"),
    *("/subscription", "/subscribe/confirm/", "/unsubscribe/"),
)
STATIC = "/static/"
SESSION_MARK = f"{SESSION_COOKIE}=".encode()
ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no address of ours (tokens in it) goes elsewhere
}


def _signed_in(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and SESSION_MARK in value):
            return True
    return False


def cache_control(scope: Scope, content_type: str) -> str | None:
    path: str = scope["path"]
    if path.startswith(STATIC):
        return None
    if _signed_in(scope) or path.startswith(SECRET_PAGES):
        return "no-store"
    return "private" if content_type.startswith("text/html") else None


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PAGES else SITE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                caching = cache_control(scope, headers.get("content-type", ""))
                if caching and "cache-control" not in headers:
                    headers["Cache-Control"] = caching
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """HEAD is GET without the body (RFC 9110 9.3.2), for every route and the page cache:
    the app answers a GET, and the body is dropped on the way out (Content-Length stays)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
