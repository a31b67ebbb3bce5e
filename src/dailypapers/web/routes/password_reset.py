"""Forgot password (a form, then a mailed link that sets a new one), and the link that
confirms an account's address. Asking for a reset answers the same whoever is asked about,
and the mail goes out after the answer, so its timing tells nothing either."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.account_mail import (
    confirm_address,
    request_reset,
    reset_holder,
    reset_password,
)
from dailypapers.accounts import AccountError
from dailypapers.mail.smtp import NOT_SET_UP, sends_mail
from dailypapers.mail.tokens import TokenError
from dailypapers.web.deps import CsrfDep, StoreDep
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond
from dailypapers.web.schemas import AccountLinkPage

router = APIRouter()
FormText = Annotated[str, Form()]
SENT = (
    "If an account of that name or address has a confirmed address, a link to set a new "
    "password is on its way to it: it works for an hour, once."
)


@router.get("/forgot", response_class=HTMLResponse, summary="The forgot-password form")
def forgot_form(request: Request) -> Response:
    return respond(request, "forgot.html", AccountLinkPage())


@router.post(
    "/forgot",
    dependencies=[CsrfDep, RateLimit("password_resets")],  # counts asking, not mails: tells nothing
    summary="Mail a password-reset link",
)
def forgot(
    request: Request, store: StoreDep, background: BackgroundTasks, who: FormText = ""
) -> Response:
    settings = request.app.state.settings
    if not sends_mail(settings):
        return respond(request, "forgot.html", AccountLinkPage(error=NOT_SET_UP), 503)
    background.add_task(request_reset, settings, store, who[:320], datetime.now(UTC))
    return respond(request, "forgot.html", AccountLinkPage(notice=SENT, done=True))


@router.get("/reset/{token}", response_class=HTMLResponse, summary="A reset link's form")
def reset_form(request: Request, store: StoreDep, token: str) -> Response:
    try:
        user, _ = reset_holder(request.app.state.settings, store, token)
    except TokenError as error:
        return respond(request, "reset.html", AccountLinkPage(error=str(error)), 400)
    return respond(request, "reset.html", AccountLinkPage(username=user.username))


@router.post("/reset/{token}", dependencies=[CsrfDep], summary="Set the new password")
def reset(
    request: Request,
    store: StoreDep,
    token: str,
    new_password: FormText = "",
    new_password_again: FormText = "",
) -> Response:
    settings = request.app.state.settings
    try:
        user, _ = reset_holder(settings, store, token)
    except TokenError as error:
        return respond(request, "reset.html", AccountLinkPage(error=str(error)), 400)
    try:
        if new_password != new_password_again:
            raise AccountError("the two new passwords differ", field="new_password_again")
        reset_password(settings, store, token, new_password)
    except (AccountError, TokenError) as error:
        page = AccountLinkPage(error=str(error), username=user.username)
        return respond(request, "reset.html", page, 400)
    notice = "Your new password is set; every session ended and every API token was revoked."
    page = AccountLinkPage(notice=notice, username=user.username, done=True)
    return respond(request, "reset.html", page)


@router.get(
    "/account/address/confirm/{token}",
    response_class=HTMLResponse,
    summary="An address confirmation link's page (a button: link checkers confirm nothing)",
)
def confirm_address_form(request: Request, token: str) -> Response:
    return respond(request, "address_confirm.html", AccountLinkPage())


@router.post(
    "/account/address/confirm/{token}", dependencies=[CsrfDep], summary="Confirm the address"
)
def confirm_address_link(request: Request, store: StoreDep, token: str) -> Response:
    settings = request.app.state.settings
    try:
        address = confirm_address(settings, store, token, datetime.now(UTC))
    except TokenError as error:
        return respond(request, "address_confirm.html", AccountLinkPage(error=str(error)), 400)
    notice = f"{address} is confirmed: password-reset links can go to it."
    return respond(request, "address_confirm.html", AccountLinkPage(notice=notice, done=True))
