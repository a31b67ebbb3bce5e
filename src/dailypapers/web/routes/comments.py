"""Comments on papers (post, reply, edit and delete one's own) and moderation: admins hide
comments and papers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from dailypapers.models import Comment, User
from dailypapers.storage.comments import add_comment, get_comment, paper_comments, update_comment
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.storage.reply_notices import add_reply_notice
from dailypapers.web.comments_html import threaded
from dailypapers.web.deps import AdminDep, CsrfDep, SearchDep, StoreDep, UserDep
from dailypapers.web.lists import check_visible
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import wants_json
from dailypapers.web.routes import MAX_ID
from dailypapers.web.routes.paper import show_paper
from dailypapers.web.schemas import CommentOut, PaperHiddenOut

router = APIRouter()
MAX_COMMENT_CHARS = 10_000
Body = Annotated[str, Form(description="Markdown, 1 to 10,000 characters.")]
ParentId = Annotated[
    int | None, Form(ge=1, le=MAX_ID, description="The comment this one replies to.")
]
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class Draft:
    """A comment form that was refused: what it held and why (the page shows it again)."""

    body: str
    error: str
    parent_id: int | None = None  # a reply's
    edit_id: int | None = None  # an edit's


def _bad(field: str, problem: str) -> HTTPException:
    return HTTPException(400, f"{field}: {problem}", headers={"X-Field": field})


def _stored_body(text: str) -> str:
    """The body as stored: line breaks as browsers count them (\\n), without outer blanks."""
    return text.replace("\r\n", "\n").strip()


def _body_problem(body: str) -> str | None:
    if not body:
        return "write something first"
    if len(body) > MAX_COMMENT_CHARS:
        return f"at most {MAX_COMMENT_CHARS:,} characters, not {len(body):,}"
    if "\x00" in body:  # PostgreSQL text cannot hold it
        return "contains a NUL character"
    return None


def _refused_body(
    request: Request,
    store: StoreDep,
    search: SearchDep,
    viewer: User,
    paper_id: str,
    draft: Draft,
) -> Response:
    """JSON clients get a 400; a browser gets the paper's page again (422), the reason by
    the form and what was typed still in it."""
    if wants_json(request) or request.state.by_token:
        raise _bad("body", draft.error)
    with store.read() as connection:
        return show_paper(request, connection, paper_id, viewer, search, 422, draft=draft)


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
    search: SearchDep,
    body: Body = "",
    parent_id: ParentId = None,
) -> Response:
    text = _stored_body(body)
    if problem := _body_problem(text):
        draft = Draft(body=body, error=problem, parent_id=parent_id)
        return _refused_body(request, store, search, viewer, paper_id, draft)
    with store.transaction() as connection:
        check_visible(connection, paper_id, viewer.is_admin)
        if parent_id is not None:
            _check_parent(connection, paper_id, parent_id)
        now = datetime.now(UTC)
        comment_id = add_comment(connection, paper_id, viewer.id, text, now, parent_id)
        if parent_id is not None:  # its author is mailed about it (mail/replies.py)
            add_reply_notice(connection, comment_id, parent_id, viewer.id, now)
    return _comment_answer(request, store, paper_id, comment_id, 201)


@router.post(
    "/comments/{comment_id}/edit",
    response_model=CommentOut,
    dependencies=[CsrfDep, RateLimit("comments")],
    summary="Edit your comment",
)
def edit_comment(
    request: Request,
    comment_id: CommentId,
    store: StoreDep,
    viewer: UserDep,
    search: SearchDep,
    body: Body = "",
) -> Response:
    text = _stored_body(body)
    with store.transaction() as connection:
        comment = _own_comment(connection, comment_id, viewer, "edit")
        if not (problem := _body_problem(text)):
            update_comment(connection, comment_id, body=text, edited_at=datetime.now(UTC))
    if problem:
        draft = Draft(body=body, error=problem, edit_id=comment_id)
        return _refused_body(request, store, search, viewer, comment.paper_id, draft)
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
