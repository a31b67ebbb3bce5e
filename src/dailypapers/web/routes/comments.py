"""Comments on papers (post, reply, edit and delete one's own) and moderation: admins hide
comments and papers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from dailypapers.models import Comment, User
from dailypapers.storage.comments import add_comment, get_comment, paper_comments, update_comment
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.web.comments_html import threaded
from dailypapers.web.deps import AdminDep, CsrfDep, StoreDep, UserDep
from dailypapers.web.lists import check_visible
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import wants_json
from dailypapers.web.routes import MAX_ID
from dailypapers.web.schemas import CommentOut, PaperHiddenOut

router = APIRouter()
MAX_COMMENT_CHARS = 10_000
Body = Annotated[str, Form(description="Markdown, 1 to 10,000 characters.")]
ParentId = Annotated[
    int | None, Form(ge=1, le=MAX_ID, description="The comment this one replies to.")
]
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _bad(field: str, problem: str) -> HTTPException:
    return HTTPException(400, f"{field}: {problem}", headers={"X-Field": field})


def _checked_body(text: str) -> str:
    """The body as stored: line breaks as browsers count them (\\n), without outer blanks."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise _bad("body", "write something first")
    if len(body) > MAX_COMMENT_CHARS:
        raise _bad("body", f"at most {MAX_COMMENT_CHARS:,} characters, not {len(body):,}")
    if "\x00" in body:  # PostgreSQL text cannot hold it
        raise _bad("body", "contains a NUL character")
    return body


def _comment(connection: Connection, comment_id: int, viewer: User) -> Comment:
    """The comment, when it is on a paper the viewer may see; 404 otherwise."""
    comment = get_comment(connection, comment_id)
    if comment is None:
        raise HTTPException(404, f"no comment {comment_id}")
    check_visible(connection, comment.paper_id, viewer.is_admin)
    return comment


def _own_comment(connection: Connection, comment_id: int, viewer: User, action: str) -> Comment:
    comment = _comment(connection, comment_id, viewer)
    if comment.user_id != viewer.id:
        raise HTTPException(403, f"you can only {action} your own comments")
    if comment.deleted or comment.hidden:
        raise HTTPException(410, f"comment {comment_id} was removed")
    return comment


def _check_parent(connection: Connection, paper_id: str, parent_id: int) -> None:
    parent = get_comment(connection, parent_id)
    if parent is None or parent.paper_id != paper_id:
        raise _bad("parent_id", f"no comment {parent_id} on paper {paper_id}")
    if parent.deleted or parent.hidden:
        raise _bad("parent_id", f"comment {parent_id} was removed and takes no replies")


def _answer(request: Request, target: str, result: BaseModel, status_code: int = 200) -> Response:
    """JSON for scripts and API-token clients; for a browser form, back to the page."""
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
    return RedirectResponse(target, 303)


def _comment_answer(
    request: Request, store: StoreDep, paper_id: str, comment_id: int, status_code: int = 200
) -> Response:
    with store.read() as connection:
        thread = threaded(paper_comments(connection, paper_id))
    (comment,) = [c for c in thread if c.id == comment_id]
    return _answer(request, f"/papers/{paper_id}#c-{comment_id}", comment, status_code)


@router.post(
    "/papers/{paper_id:arxiv}/comments",
    response_model=CommentOut,
    status_code=201,
    dependencies=[CsrfDep, RateLimit("comments")],
    summary="Comment on a paper, or reply to one of its comments",
)
def post_comment(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: UserDep,
    body: Body = "",
    parent_id: ParentId = None,
) -> Response:
    text = _checked_body(body)
    with store.transaction() as connection:
        check_visible(connection, paper_id, viewer.is_admin)
        if parent_id is not None:
            _check_parent(connection, paper_id, parent_id)
        now = datetime.now(UTC)
        comment_id = add_comment(connection, paper_id, viewer.id, text, now, parent_id)
    return _comment_answer(request, store, paper_id, comment_id, 201)


@router.post(
    "/comments/{comment_id}/edit",
    response_model=CommentOut,
    dependencies=[CsrfDep, RateLimit("comments")],
    summary="Edit your comment",
)
def edit_comment(
    request: Request, comment_id: CommentId, store: StoreDep, viewer: UserDep, body: Body = ""
) -> Response:
    text = _checked_body(body)
    with store.transaction() as connection:
        comment = _own_comment(connection, comment_id, viewer, "edit")
        update_comment(connection, comment_id, body=text, edited_at=datetime.now(UTC))
    return _comment_answer(request, store, comment.paper_id, comment_id)


@router.post(
    "/comments/{comment_id}/delete",
    response_model=CommentOut,
    dependencies=[CsrfDep],
    summary="Delete your comment (its replies stay)",
)
def delete_comment(
    request: Request, comment_id: CommentId, store: StoreDep, viewer: UserDep
) -> Response:
    with store.transaction() as connection:
        comment = _own_comment(connection, comment_id, viewer, "delete")
        update_comment(connection, comment_id, deleted=True)
    return _comment_answer(request, store, comment.paper_id, comment_id)


@router.post(
    "/comments/{comment_id}/hide",
    response_model=CommentOut,
    dependencies=[CsrfDep],
    summary="Hide a comment (admins)",
)
def hide_comment(
    request: Request, comment_id: CommentId, store: StoreDep, admin: AdminDep
) -> Response:
    with store.transaction() as connection:
        comment = _comment(connection, comment_id, admin)
        update_comment(connection, comment_id, hidden=True)
    return _comment_answer(request, store, comment.paper_id, comment_id)


def _set_hidden(request: Request, store: StoreDep, paper_id: str, hidden: bool) -> Response:
    with store.transaction() as connection:
        if not set_paper_hidden(connection, paper_id, hidden):
            raise HTTPException(404, f"no paper {paper_id}")
    return _answer(request, f"/papers/{paper_id}", PaperHiddenOut(paper_id=paper_id, hidden=hidden))


@router.post(
    "/papers/{paper_id:arxiv}/hide",
    response_model=PaperHiddenOut,
    dependencies=[CsrfDep],
    summary="Hide a paper from every list and page (admins)",
)
def hide_paper(request: Request, paper_id: str, store: StoreDep, admin: AdminDep) -> Response:
    return _set_hidden(request, store, paper_id, True)


@router.post(
    "/papers/{paper_id:arxiv}/unhide",
    response_model=PaperHiddenOut,
    dependencies=[CsrfDep],
    summary="Show a hidden paper again (admins)",
)
def unhide_paper(request: Request, paper_id: str, store: StoreDep, admin: AdminDep) -> Response:
    return _set_hidden(request, store, paper_id, False)
