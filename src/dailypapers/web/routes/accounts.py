"""Sign up, log in and out, the account page (password, address, API tokens), and bans by
admins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection

from dailypapers.account_mail import set_address
from dailypapers.accounts import (
    SESSION_LIFETIME,
    AccountError,
    BadCredentials,
    Banned,
    Login,
    TooBusy,
    TooManyAttempts,
    change_password,
    confirm_password,
    create_api_token,
    log_in,
    log_out,
    revoke_api_token,
    set_banned,
    sign_up_and_log_in,
)
from dailypapers.models import User, is_paper_id
from dailypapers.storage import Store
from dailypapers.storage.papers import get_paper, paper_hidden
from dailypapers.storage.users import account_address, api_tokens_of, update_user
from dailypapers.storage.votes import add_vote
from dailypapers.web.deps import SESSION_COOKIE, AdminDep, CsrfDep, StoreDep, UserDep
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.schemas import AccountPage, FormPage, TokenOut, UserOut

router = APIRouter()
FormText = Annotated[str, Form()]
Switch = Annotated[bool, Form(description="A checkbox: sent when on.")]
VoteField = Annotated[str, Form(description="A paper to upvote once signed in.")]
STATUS_OF = {BadCredentials: 401, Banned: 403, TooManyAttempts: 429, TooBusy: 503}


def refusal_status(error: AccountError) -> tuple[int, dict[str, str]]:
    """The status of a refusal, and a Retry-After header for those that pass."""
    wait = getattr(error, "retry_after", None)
    return STATUS_OF.get(type(error), 400), {"Retry-After": str(wait)} if wait else {}


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _local_path(target: str) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if local and not parts.scheme and not parts.netloc else "/"


def _votable(connection: Connection, paper_id: str, user: User | None) -> bool:
    """Whether the paper is there to upvote: stored, and not hidden (but for admins)."""
    hidden = paper_hidden(connection, paper_id) if is_paper_id(paper_id) else None
    return hidden is False or (hidden is True and user is not None and user.is_admin)


def _form_page(store: Store, next: str, vote: str, **fields: str) -> FormPage:
    """A log-in or sign-up form; with `vote`, one that upvotes that paper once signed in
    (an unknown or hidden paper is dropped, and the form says so)."""
    page = FormPage(next=_local_path(next), **fields)
    if not vote:
        return page
    with store.read() as connection:
        paper = get_paper(connection, vote) if _votable(connection, vote, None) else None
    if paper is None:
        page.notice = "The paper you wanted to upvote is not on this site: nothing is upvoted."
    else:
        page.vote, page.vote_title = paper.id, paper.title or paper.id
    return page


def _signed_in(
    request: Request, store: Store, login: Login, target: str, vote: str = ""
) -> Response:
    """The session's cookie, and the upvote the reader asked for while signed out (their own
    form, CSRF-checked, so it is added, never toggled)."""
    if vote:
        with store.transaction() as connection:
            if _votable(connection, vote, login.user):
                add_vote(connection, login.user.id, vote, datetime.now(UTC))
    response = RedirectResponse(_local_path(target), 303)
    response.set_cookie(
        SESSION_COOKIE,
        login.session,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _form(
    request: Request,
    store: Store,
    template: str,
    error: AccountError,
    username: str,
    next: str,
    vote: str,
) -> Response:
    data = _form_page(store, next, vote, username=username, error=str(error))
    status, headers = refusal_status(error)
    response = respond(request, template, data, status)
    response.headers.update(headers)
    return response


@router.get("/signup", response_class=HTMLResponse, summary="The sign-up form")
def signup_form(request: Request, store: StoreDep, next: str = "/", vote: str = "") -> Response:
    return respond(request, "signup.html", _form_page(store, next, vote))


@router.post(
    "/signup",
    dependencies=[CsrfDep, RateLimit("signups")],
    summary="Make an account and sign in",
)
def signup(
    request: Request,
    store: StoreDep,
    username: FormText = "",
    password: FormText = "",
    password_again: FormText = "",
    next: FormText = "/",
    vote: VoteField = "",
) -> Response:
    try:
        if password != password_again:
            raise AccountError("the two passwords differ", field="password_again")
        login = sign_up_and_log_in(store, username, password)
    except AccountError as error:
        return _form(request, store, "signup.html", error, username, next, vote)
    return _signed_in(request, store, login, next, vote)


@router.get("/login", response_class=HTMLResponse, summary="The log-in form")
def login_form(request: Request, store: StoreDep, next: str = "/", vote: str = "") -> Response:
    return respond(request, "login.html", _form_page(store, next, vote))


@router.post("/login", dependencies=[CsrfDep], summary="Sign in")
def login(
    request: Request,
    store: StoreDep,
    username: FormText = "",
    password: FormText = "",
    next: FormText = "/",
    vote: VoteField = "",
) -> Response:
    try:
        login = log_in(store, username, password, client_address(request))
    except AccountError as error:
        return _form(request, store, "login.html", error, username, next, vote)
    return _signed_in(request, store, login, next, vote)


@router.post("/logout", dependencies=[CsrfDep], summary="Sign out")
def logout(request: Request, store: StoreDep) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        log_out(store, session)
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


def _account(
    request: Request,
    store: StoreDep,
    viewer: User,
    status_code: int = 200,
    new_token: str | None = None,
    **context: object,
) -> Response:
    with store.read() as connection:
        tokens = [TokenOut(name=n, created_at=at) for n, at in api_tokens_of(connection, viewer.id)]
        email, confirmed = account_address(connection, viewer.id)
    data = AccountPage(
        username=viewer.username,
        is_admin=viewer.is_admin,
        tokens=tokens,
        new_token=new_token,
        email=email,
        email_confirmed=confirmed,
        private_upvotes=viewer.private_upvotes,
        reply_mails=viewer.reply_mails,
    )
    return respond(request, "account.html", data, status_code, **context)


def _account_refusal(
    request: Request, store: StoreDep, viewer: User, error: AccountError, slot: str
) -> Response:
    """The account page with the error by the form at fault; JSON clients get the error alone."""
    status, headers = refusal_status(error)
    if wants_json(request):
        raise HTTPException(status, str(error), headers={"X-Field": error.field or "", **headers})
    response = _account(request, store, viewer, status, **{slot: str(error)})
    response.headers.update(headers)
    return response


@router.get("/account", response_class=HTMLResponse, summary="Your account")
@router.get("/account.json", response_model=AccountPage, summary="Your account")
def account(request: Request, store: StoreDep, viewer: UserDep) -> Response:
    return _account(request, store, viewer)


@router.post("/account/password", dependencies=[CsrfDep], summary="Change your password")
def change_own_password(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    old_password: FormText = "",
    new_password: FormText = "",
    new_password_again: FormText = "",
) -> Response:
    try:
        if new_password != new_password_again:
            raise AccountError("the two new passwords differ", field="new_password_again")
        session = None if request.state.by_token else request.cookies.get(SESSION_COOKIE)
        change_password(store, viewer, old_password, new_password, session, client_address(request))
    except AccountError as error:
        return _account_refusal(request, store, viewer, error, "password_error")
    notice = (
        "Password changed; every other session of yours was logged out, every API token revoked."
    )
    return _account(request, store, viewer, password_notice=notice)


@router.post(
    "/account/tokens",
    dependencies=[CsrfDep],
    summary="Make an API token (asks for the password, limited like log-in)",
)
def make_api_token(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    name: FormText = "",
    password: FormText = "",
) -> Response:
    try:
        confirm_password(store, viewer, password, client_address(request))
        token = create_api_token(store, viewer, name)
    except AccountError as error:
        return _account_refusal(request, store, viewer, error, "token_error")
    return _account(request, store, viewer, new_token=token)


@router.post(
    "/account/tokens/revoke", dependencies=[CsrfDep], summary="Revoke an API token by name"
)
def revoke_token(
    request: Request, store: StoreDep, viewer: UserDep, name: FormText = ""
) -> Response:
    try:
        revoke_api_token(store, viewer, name)
    except AccountError as error:
        return _account_refusal(request, store, viewer, error, "token_error")
    notice = f"Token {name.strip()} revoked: it no longer works."
    return _account(request, store, viewer, token_notice=notice)


@router.post(
    "/account/address",
    dependencies=[CsrfDep],
    summary="Set your address (for password resets); a link to it confirms it",
)
def change_address(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    email: FormText = "",
    password: FormText = "",
) -> Response:
    settings = request.app.state.settings
    now = datetime.now(UTC)
    try:
        address = set_address(
            settings, store, viewer, email, password, client_address(request), now
        )
    except AccountError as error:
        return _account_refusal(request, store, viewer, error, "address_error")
    notice = f"A link to confirm it went to {address}: open it within 2 days."
    return _account(request, store, viewer, address_notice=notice)


@router.post(
    "/account/preferences",
    dependencies=[CsrfDep],
    summary="Keep your upvotes private; be mailed when someone replies to your comment",
)
def set_preferences(
    request: Request,
    store: StoreDep,
    viewer: UserDep,
    private_upvotes: Switch = False,
    reply_mails: Switch = False,
) -> Response:
    with store.transaction() as connection:
        update_user(connection, viewer.id, private_upvotes=private_upvotes, reply_mails=reply_mails)
    viewer = replace(viewer, private_upvotes=private_upvotes, reply_mails=reply_mails)
    return _account(request, store, viewer, preferences_notice="Saved.")


def _ban(request: Request, store: StoreDep, admin: User, username: str, banned: bool) -> Response:
    if username.lower() == admin.username:
        raise HTTPException(400, "admins cannot ban themselves")
    try:
        user = set_banned(store, username, banned)
    except AccountError as error:
        raise HTTPException(404, str(error)) from None
    result = UserOut(username=user.username, is_admin=user.is_admin, banned=user.banned)
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, "/"), 303)


@router.post(
    "/admin/users/{username}/ban",
    response_model=UserOut,
    dependencies=[CsrfDep],
    summary="Ban a user: they count as signed out until unbanned",
)
def ban(request: Request, store: StoreDep, admin: AdminDep, username: str) -> Response:
    return _ban(request, store, admin, username, True)


@router.post(
    "/admin/users/{username}/unban",
    response_model=UserOut,
    dependencies=[CsrfDep],
    summary="Lift a user's ban",
)
def unban(request: Request, store: StoreDep, admin: AdminDep, username: str) -> Response:
    return _ban(request, store, admin, username, False)
