"""One handler, two faces: HTML from a template, or JSON at the same path with `.json`."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from dailypapers import __version__
from dailypapers.ranking.trending import FORMULA

CSRF_COOKIE = "dp_csrf"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals.update(version=__version__, trending_formula=FORMULA)


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def json_twin(path: str) -> str:
    return "/papers.json" if path == "/" else f"{path}.json"


def csrf_token(request: Request) -> str:
    """The double-submit token: the cookie's value, made on a client's first visit."""
    if not hasattr(request.state, "csrf"):
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return request.state.csrf  # type: ignore[no-any-return]


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
    alternate = f'<{json_twin(request.url.path)}>; rel="alternate"; type="application/json"'
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
    remember_csrf(request, response, token)
    return response


def remember_csrf(request: Request, response: Response, token: str) -> None:
    """Give a first-time visitor the cookie that the token in their forms must match."""
    if request.cookies.get(CSRF_COOKIE) != token:
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
