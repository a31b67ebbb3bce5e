"""One handler, two faces: HTML from a template, or JSON at the same path with `.json`."""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from dailypapers import __version__
from dailypapers.config import Settings
from dailypapers.mail.smtp import sends_mail
from dailypapers.mail.tokens import site_secret
from dailypapers.ranking.trending import FORMULA
from dailypapers.storage import Store
from dailypapers.texmath import mathml, plain
from dailypapers.text import doi_url, paper_path, path_segment, split_abstract


def site_sends_mail(request: Request) -> bool:
    """Whether this site can mail (pages offering mail say so when it cannot)."""
    return sends_mail(request.app.state.settings)


CSRF_COOKIE = "dp_csrf"
SESSION_COOKIE = "dp_session"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals.update(
    version=__version__,
    trending_formula=FORMULA,
    site_sends_mail=site_sends_mail,
    split_abstract=split_abstract,
)
# Stored text reaches URLs only through these (see dailypapers.text).
TEMPLATES.env.filters.update(
    path_segment=path_segment, paper_path=paper_path, doi_url=doi_url, math=mathml, plain_math=plain
)


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def json_twin(path: str) -> str:
    return "/papers.json" if path == "/" else f"{path}.json"


def csrf_token(request: Request) -> str:
    """The token a page's forms carry, bound to who asks: for a signed-in reader a MAC of
    their session token, so another session's token is refused; for anyone else the value
    of their anonymous cookie, which the site signed (a planted or forged cookie is replaced
    by a new one). Either way 32 URL-safe characters, made with a key only the site knows."""
    if not hasattr(request.state, "csrf"):
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            request.state.csrf = _mac(request, f"session:{session}", 24)
        else:
            request.state.csrf = _anonymous_cookie(request)
    return request.state.csrf  # type: ignore[no-any-return]


def _anonymous_cookie(request: Request) -> str:
    sent = request.cookies.get(CSRF_COOKIE, "")
    nonce, signature = sent[:16], sent[16:]
    if len(sent) == 32 and secrets.compare_digest(signature, _mac(request, nonce, 12)):
        return sent
    nonce = secrets.token_urlsafe(12)
    return nonce + _mac(request, nonce, 12)


def _mac(request: Request, message: str, size: int) -> str:
    digest = hmac.digest(_csrf_key(request), message.encode(), "sha256")[:size]
    return base64.urlsafe_b64encode(digest).decode()


def _csrf_key(request: Request) -> bytes:
    return request.app.state.csrf_key  # type: ignore[no-any-return]


def csrf_key(settings: Settings, store: Store) -> bytes:
    """The key of the site's CSRF tokens, from its secret: the same in every worker."""
    return hmac.digest(site_secret(settings, store).encode(), b"dailypapers.csrf", "sha256")


def respond(
    request: Request,
    template: str,
    data: BaseModel,
    status_code: int = 200,
    **context: Any,
) -> Response:
    if wants_json(request):
        return JSONResponse(data.model_dump(mode="json"), status_code=status_code)
    token = csrf_token(request)
    # Headers are Latin-1 and the path is decoded (/authors/Aleksander Mądry): encode it again.
    twin = quote(json_twin(request.url.path), safe="/")
    alternate = f'<{twin}>; rel="alternate"; type="application/json"'
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "data": data,
            "viewer": getattr(request.state, "viewer", None),
            "csrf_token": token,
            "today": date.today(),
            **context,
        },
        status_code=status_code,
        headers={"Link": alternate},
    )
    remember_csrf(request, response)
    return response


def remember_csrf(request: Request, response: Response) -> None:
    """Give an anonymous first-time visitor the cookie that their forms' token must match."""
    token = csrf_token(request)
    if SESSION_COOKIE not in request.cookies and request.cookies.get(CSRF_COOKIE) != token:
        secure = request.url.scheme == "https"
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=86400 * 365
        )


def same_site_referer(request: Request, fallback: str) -> str:
    """Where a form came from, as a local path: never a redirect to another site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return fallback
    path = referer.path if referer.path.startswith("/") else fallback
    return f"{path}?{referer.query}" if referer.query else path
