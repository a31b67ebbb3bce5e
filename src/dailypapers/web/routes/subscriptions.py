"""Digests by mail: subscribe (double opt-in), confirm, manage, and one-click unsubscribe.

The signed links of `mail.tokens` are the authority where they appear: the unsubscribe POST
takes no CSRF token, because mail clients send it on their own (RFC 8058) and the link's
signature already proves the request came from the mailbox it names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dailypapers.mail.delivery import subscription_links
from dailypapers.mail.smtp import NOT_SET_UP, sends_mail
from dailypapers.mail.subscriptions import (
    ConfirmationNotSent,
    SubscriptionError,
    change_choices,
    check_choices,
    confirm,
    drop_search,
    holder,
    holder_payload,
    normalise_address,
    parse_categories,
    save_search,
    subscribe,
    unsubscribe,
    unused_confirmation,
)
from dailypapers.mail.tokens import (
    CONFIRM,
    MANAGE,
    UNSUBSCRIBE,
    LinkSigner,
    TokenError,
    link_signer,
)
from dailypapers.models import Subscriber, User
from dailypapers.storage import Store
from dailypapers.storage.subscriptions import subscriber_of_user
from dailypapers.storage.users import user_by_id
from dailypapers.web.deps import CsrfDep, StoreDep, ViewerDep
from dailypapers.web.ratelimit import client_address
from dailypapers.web.render import respond, wants_json
from dailypapers.web.routes import MAX_ID
from dailypapers.web.schemas import (
    ConfirmPage,
    SavedSearchOut,
    SubscribeForm,
    SubscribeSent,
    SubscriptionOut,
    SubscriptionPage,
    UnsubscribePage,
)

router = APIRouter()
FormText = Annotated[str, Form()]
SENT = (
    "We mailed a confirmation link to {email} (unless we did in the last ten minutes). "
    "Nothing else is sent before you follow it."
)


def _signer(request: Request, store: Store) -> LinkSigner:
    """One per app: reading the key may mean making it, once per database."""
    if not hasattr(request.app.state, "link_signer"):
        request.app.state.link_signer = link_signer(request.app.state.settings, store)
    return request.app.state.link_signer  # type: ignore[no-any-return]


def _read(request: Request, store: Store, purpose: str, token: str) -> dict[str, Any]:
    try:
        return _signer(request, store).read(purpose, token)
    except TokenError as error:
        raise HTTPException(400, f"{error}: ask for a new one") from None


def _subscription(subscriber: Subscriber) -> SubscriptionOut:
    state = "active" if subscriber.active else "unconfirmed"
    return SubscriptionOut(
        email=subscriber.email,
        state="unsubscribed" if subscriber.unsubscribed_at else state,
        frequency=subscriber.frequency,
        time_zone=subscriber.time_zone,
        categories=subscriber.categories,
        searches=[SavedSearchOut(id=s.id, query=s.query) for s in subscriber.searches],
    )


@router.get("/subscribe", response_class=HTMLResponse, summary="The form to get digests by mail")
def subscribe_form(request: Request) -> Response:
    return respond(request, "subscribe.html", SubscribeForm())


@router.post("/subscribe", dependencies=[CsrfDep], summary="Ask for digests by mail")
@router.post(
    "/subscribe.json",
    response_model=SubscribeSent,
    dependencies=[CsrfDep],
    summary="Ask for digests by mail",
)
def subscribe_post(
    request: Request,
    store: StoreDep,
    viewer: ViewerDep,
    email: FormText = "",
    frequency: FormText = "daily",
    categories: FormText = "",
    time_zone: FormText = "UTC",
) -> Response:
    """Mails a confirmation link; nothing else is sent before it is followed."""
    form = SubscribeForm(
        email=email, frequency=frequency, categories=categories, time_zone=time_zone
    )
    try:
        address = normalise_address(email)
        with store.read() as connection:
            choices = check_choices(connection, frequency, parse_categories(categories), time_zone)
        settings = request.app.state.settings
        if not sends_mail(settings):
            raise ConfirmationNotSent(NOT_SET_UP, "email")
        now = datetime.now(UTC)
        user_id = viewer.id if viewer else None
        subscribe(settings, store, address, choices, user_id, now, client_address(request))
    except SubscriptionError as error:
        status = 503 if isinstance(error, ConfirmationNotSent) else 400
        if wants_json(request):
            field = {"X-Field": error.field or ""}
            raise HTTPException(status, str(error), headers=field) from None
        form.error, form.field = str(error), error.field
        template = "subscription.html" if viewer else "subscribe.html"
        data = SubscriptionPage(subscription=None, form=form) if viewer else form
        return respond(request, template, data, status)
    return respond(
        request,
        "subscribe_sent.html",
        SubscribeSent(email=address, message=SENT.format(email=address)),
    )


def _confirm_page(store: Store, payload: dict[str, Any], confirmed: bool) -> ConfirmPage:
    account = None
    if payload.get("u") is not None:
        with store.read() as connection:
            user = user_by_id(connection, int(payload["u"]))
        account = user.username if user else None
    return ConfirmPage(
        email=str(payload["e"]),
        frequency=str(payload["f"]),
        categories=list(payload["c"]),
        time_zone=str(payload["z"]),
        account=account,
        confirmed=confirmed,
    )


@router.get(
    "/subscribe/confirm/{token}", response_class=HTMLResponse, summary="A confirmation link"
)
@router.get(
    "/subscribe/confirm/{token}.json", response_model=ConfirmPage, summary="A confirmation link"
)
def confirm_page(request: Request, store: StoreDep, token: str) -> Response:
    """Shows what the link confirms, with a button: link checkers that open every link in a
    mail must not subscribe anyone."""
    payload = _read(request, store, CONFIRM, token)
    with store.read() as connection:
        try:
            unused_confirmation(connection, payload)
        except TokenError as error:
            raise HTTPException(400, str(error)) from None
    return respond(request, "subscribe_confirm.html", _confirm_page(store, payload, False))


@router.post("/subscribe/confirm/{token}", dependencies=[CsrfDep], summary="Confirm a subscription")
@router.post(
    "/subscribe/confirm/{token}.json",
    response_model=ConfirmPage,
    dependencies=[CsrfDep],
    summary="Confirm a subscription",
)
def confirm_post(request: Request, store: StoreDep, token: str) -> Response:
    payload = _read(request, store, CONFIRM, token)
    try:
        subscriber = confirm(store, payload, datetime.now(UTC))
    except TokenError as error:
        raise HTTPException(400, str(error)) from None
    manage = _signer(request, store).make(MANAGE, holder_payload(subscriber))
    return respond(
        request,
        "subscribe_confirm.html",
        _confirm_page(store, payload, True),
        manage_url=f"/subscription?token={quote(manage)}",
    )


def _holder_or_400(connection: Any, payload: dict[str, Any]) -> Subscriber:
    try:
        return holder(connection, payload)
    except TokenError as error:
        raise HTTPException(400, str(error)) from None


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="An unsubscribe link")
@router.get(
    "/unsubscribe/{token}.json", response_model=UnsubscribePage, summary="An unsubscribe link"
)
def unsubscribe_page(request: Request, store: StoreDep, token: str) -> Response:
    payload = _read(request, store, UNSUBSCRIBE, token)
    with store.read() as connection:
        subscriber = _holder_or_400(connection, payload)
    data = UnsubscribePage(email=subscriber.email, unsubscribed=not subscriber.active)
    return respond(request, "unsubscribe.html", data)


@router.post("/unsubscribe/{token}", summary="Unsubscribe (one click, RFC 8058)")
@router.post(
    "/unsubscribe/{token}.json",
    response_model=UnsubscribePage,
    summary="Unsubscribe (one click, RFC 8058)",
)
def unsubscribe_post(request: Request, store: StoreDep, token: str) -> Response:
    """No CSRF token and no sign-in: mail clients post `List-Unsubscribe=One-Click` here on
    their own, and the signed link is the authority."""
    payload = _read(request, store, UNSUBSCRIBE, token)
    try:
        subscriber = unsubscribe(store, payload, datetime.now(UTC))
    except TokenError as error:
        raise HTTPException(400, str(error)) from None
    return respond(
        request, "unsubscribe.html", UnsubscribePage(email=subscriber.email, unsubscribed=True)
    )


def _subscriber(
    request: Request, store: Store, viewer: User | None, token: str
) -> Subscriber | None:
    """Whose subscription this is: the manage link's, else the signed-in user's (None when
    they have none); 401 for someone with neither."""
    payload = _read(request, store, MANAGE, token) if token else None  # may read the key
    with store.read() as connection:
        if payload is not None:
            return _holder_or_400(connection, payload)
        if viewer is None:
            raise HTTPException(401, "sign in, or open the link at the foot of a digest")
        return subscriber_of_user(connection, viewer.id)


def _owned(request: Request, store: Store, viewer: User | None, token: str) -> Subscriber:
    subscriber = _subscriber(request, store, viewer, token)
    if subscriber is None:
        raise HTTPException(404, "you have no subscription yet: subscribe first")
    return subscriber


def _settings_page(
    request: Request,
    store: Store,
    viewer: User | None,
    token: str,
    status: int = 200,
    **context: Any,
) -> Response:
    subscriber = _subscriber(request, store, viewer, token)
    if subscriber is None:
        data = SubscriptionPage(subscription=None, form=SubscribeForm())
        return respond(request, "subscription.html", data, status, **context)
    links = subscription_links(request.app.state.settings, _signer(request, store), subscriber)
    data = SubscriptionPage(
        subscription=_subscription(subscriber),
        token=token or None,
        unsubscribe_url=links.unsubscribe.removeprefix(links.site),
    )
    return respond(request, "subscription.html", data, status, **context)


@router.get("/subscription", response_class=HTMLResponse, summary="Your digest settings")
@router.get("/subscription.json", response_model=SubscriptionPage, summary="Your digest settings")
def subscription_page(
    request: Request, store: StoreDep, viewer: ViewerDep, token: str = ""
) -> Response:
    """Signed in, or with the `token` of a digest's manage link."""
    return _settings_page(request, store, viewer, token)


def _back(request: Request, store: Store, viewer: User | None, token: str) -> Response:
    if wants_json(request) or request.state.by_token:
        return _settings_page(request, store, viewer, token)
    target = f"/subscription?token={quote(token)}" if token else "/subscription"
    return RedirectResponse(target, 303)


def _refused(
    request: Request, store: Store, viewer: User | None, token: str, error: SubscriptionError
) -> Response:
    if wants_json(request):
        raise HTTPException(400, str(error), headers={"X-Field": error.field or ""})
    return _settings_page(request, store, viewer, token, 400, error=str(error))


@router.post("/subscription", dependencies=[CsrfDep], summary="Change your digest settings")
def change_subscription(
    request: Request,
    store: StoreDep,
    viewer: ViewerDep,
    token: FormText = "",
    frequency: FormText = "daily",
    categories: FormText = "",
    time_zone: FormText = "UTC",
) -> Response:
    subscriber = _owned(request, store, viewer, token)
    try:
        with store.read() as connection:
            choices = check_choices(connection, frequency, parse_categories(categories), time_zone)
    except SubscriptionError as error:
        return _refused(request, store, viewer, token, error)
    change_choices(store, subscriber, choices)
    return _back(request, store, viewer, token)


@router.post("/subscription/searches", dependencies=[CsrfDep], summary="Save a search")
def add_saved_search(
    request: Request, store: StoreDep, viewer: ViewerDep, token: FormText = "", query: FormText = ""
) -> Response:
    """Its new matches come with each digest."""
    subscriber = _owned(request, store, viewer, token)
    try:
        save_search(store, subscriber, query, datetime.now(UTC))
    except SubscriptionError as error:
        return _refused(request, store, viewer, token, error)
    return _back(request, store, viewer, token)


@router.post(
    "/subscription/searches/{search_id}/delete",
    dependencies=[CsrfDep],
    summary="Remove a saved search",
)
def remove_saved_search(
    request: Request,
    store: StoreDep,
    viewer: ViewerDep,
    search_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    token: FormText = "",
) -> Response:
    subscriber = _owned(request, store, viewer, token)
    try:
        drop_search(store, subscriber, search_id)
    except SubscriptionError as error:
        raise HTTPException(404, str(error)) from None
    return _back(request, store, viewer, token)
