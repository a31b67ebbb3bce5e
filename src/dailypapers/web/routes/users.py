"""Members' profiles (their upvotes, submissions and comments) and their generated avatars."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from dailypapers.accounts import USERNAME_RULE
from dailypapers.markdown import render_markdown
from dailypapers.models import User
from dailypapers.storage.comments import comments_by
from dailypapers.storage.papers import get_papers
from dailypapers.storage.profiles import submitted_by, upvoted_by
from dailypapers.storage.users import user_by_name
from dailypapers.text import path_segment
from dailypapers.web.avatars import identicon_svg
from dailypapers.web.deps import ReadDep
from dailypapers.web.render import respond
from dailypapers.web.schemas import ProfileCommentOut, ProfilePaperOut, UserPage

router = APIRouter()
ON_PROFILE = 30  # of each kind: upvotes, submissions, comments
AVATAR_CACHE = "public, max-age=604800, immutable"  # a name's picture never changes


def _member(connection: Connection, name: str) -> User:
    """The member of that name (any case); 404 for no one, or for a banned member."""
    found = user_by_name(connection, name.lower()) if USERNAME_RULE.fullmatch(name) else None
    if found is None or found[0].banned:
        raise HTTPException(404, "no member of that name")
    return found[0]


def _papers(connection: Connection, ids: Sequence[str]) -> list[ProfilePaperOut]:
    """In the order of `ids`."""
    by_id = {paper.id: paper for paper in get_papers(connection, ids)}
    return [
        ProfilePaperOut(id=p.id, title=p.title, announced=p.announced)
        for paper_id in ids
        if (p := by_id.get(paper_id))
    ]


def _comments(connection: Connection, member: User) -> list[ProfileCommentOut]:
    written = comments_by(connection, member.id, ON_PROFILE)
    titles = {
        paper.id: paper.title for paper in get_papers(connection, [c.paper_id for c in written])
    }
    return [
        ProfileCommentOut(
            id=c.id,
            paper_id=c.paper_id,
            paper_title=titles.get(c.paper_id),
            created_at=c.created_at,
            html=render_markdown(c.body),
        )
        for c in written
    ]


@router.get("/users/{name}", response_class=HTMLResponse, summary="A member's profile")
@router.get("/users/{name}.json", response_model=UserPage, summary="A member's profile")
def profile(request: Request, name: str, connection: ReadDep) -> Response:
    member = _member(connection, name)
    upvotes = [] if member.private_upvotes else upvoted_by(connection, member.id, ON_PROFILE)
    data = UserPage(
        username=member.username,
        is_admin=member.is_admin,
        joined=member.created_at,
        avatar=f"/users/{path_segment(member.username)}/avatar.svg",
        private_upvotes=member.private_upvotes,
        upvotes=_papers(connection, upvotes),
        submissions=_papers(connection, submitted_by(connection, member.username, ON_PROFILE)),
        comments=_comments(connection, member),
    )
    return respond(request, "user.html", data)


@router.get(
    "/users/{name}/avatar.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="A member's avatar: an identicon made from the name",
)
def avatar(name: str) -> Response:
    # From the name alone (no lookup): the same picture for every case of it.
    if not USERNAME_RULE.fullmatch(name):
        raise HTTPException(404, "no member of that name")
    return Response(
        identicon_svg(name.lower()),
        media_type="image/svg+xml",
        headers={"Cache-Control": AVATAR_CACHE},
    )
