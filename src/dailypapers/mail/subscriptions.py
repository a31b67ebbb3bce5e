"""Subscribing and managing a subscription: the rules, for the site and the command line.

Double opt-in: asking to subscribe makes (at most) an unconfirmed row; the choices travel in
the signed confirmation link and take effect when its owner follows it, so nobody changes or
starts someone else's digests by typing their address into the form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dailypapers.config import Settings
from dailypapers.mail.render import AddressSettingError, MailWriter, sender_address
from dailypapers.mail.smtp import SmtpFailure, reason_for_readers, send_for_request
from dailypapers.mail.tokens import CONFIRM, TokenError, link_signer
from dailypapers.models import Subscriber
from dailypapers.search.query import QueryError, parse_query
from dailypapers.storage import Store
from dailypapers.storage.ratelimit import Rate, RateLimited, Rule, enforce
from dailypapers.storage.subscriptions import (
    add_search,
    add_subscriber,
    delete_subscriber,
    known_categories,
    remove_search,
    set_categories,
    subscriber_by_email,
    subscriber_by_id,
    subscriber_of_user,
    update_subscriber,
)

FREQUENCIES = ("daily", "weekly")
MAX_CATEGORIES = 20
MAX_SEARCHES = 20
MAX_QUERY_LENGTH = 300
# A second confirmation mail to one address waits this long: the form is no mail cannon.
RESEND_AFTER = timedelta(minutes=10)
_CATEGORY = re.compile(r"[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?")  # cs.LG, hep-th, math.AG


class SubscriptionError(ValueError):
    """A refusal with a one-line reason; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfirmationNotSent(SubscriptionError):
    """The SMTP server did not take the confirmation mail; trying later may work."""


@dataclass(frozen=True, slots=True)
class Choices:
    frequency: str = "daily"
    categories: tuple[str, ...] = ()  # none: every category
    time_zone: str = "UTC"


def normalise_address(text: str) -> str:
    """The address as stored and mailed (domain in ASCII, lower case), or a reason why not.
    No DNS lookups: whether the domain takes mail shows when mail is sent."""
    try:
        valid = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise SubscriptionError(f"{text.strip()!r} is not an address: {error}", "email") from None
    return str(valid.ascii_email).lower()


def parse_categories(text: str) -> list[str]:
    """Categories typed into a form: separated by spaces or commas."""
    return [name for name in re.split(r"[\s,]+", text) if name]


@functools.cache
def _time_zones() -> frozenset[str]:
    """The IANA names: ZoneInfo() opens any path under the tz database, and a folder
    (America) or an overlong name would fail as an OSError, not as an unknown zone."""
    return frozenset(available_timezones())


def check_choices(
    connection: Connection, frequency: str, categories: Iterable[str], time_zone: str
) -> Choices:
    if frequency not in FREQUENCIES:
        message = f"frequency must be daily or weekly, not {frequency!r}"
        raise SubscriptionError(message, "frequency")
    names = list(dict.fromkeys(categories))
    if len(names) > MAX_CATEGORIES:
        raise SubscriptionError(f"at most {MAX_CATEGORIES} categories", "categories")
    malformed = [name for name in names if not _CATEGORY.fullmatch(name)]
    unknown = malformed or sorted(set(names) - known_categories(connection, names))
    if unknown:
        raise SubscriptionError(f"no papers in category {unknown[0]!r}", "categories")
    if time_zone not in _time_zones():
        raise SubscriptionError(f"unknown time zone {time_zone!r:.80}", "time_zone")
    return Choices(frequency, tuple(names), time_zone)


def check_query(text: str) -> str:
    """A saved search as stored: whitespace (newlines included) collapsed to single spaces."""
    query = " ".join(text.split())
    if not query or len(query) > MAX_QUERY_LENGTH:
        raise SubscriptionError(f"a search is 1 to {MAX_QUERY_LENGTH} characters", "query")
    try:
        if parse_query(query).empty:
            raise SubscriptionError(f"{query!r} searches for nothing", "query")
    except QueryError as error:
        raise SubscriptionError(str(error), "query") from None
    return query


def request_subscription(
    store: Store, email: str, choices: Choices, now: datetime
) -> Subscriber | None:
    """Someone asked to subscribe `email`: a new address gets an unconfirmed row with these
    choices. Returns the subscriber to mail a confirmation link to, or None when one went to
    this address less than RESEND_AFTER ago."""
    try:
        with store.transaction() as connection:
            subscriber = subscriber_by_email(connection, email)
            if subscriber is None:
                subscriber_id = add_subscriber(
                    connection, email, choices.frequency, choices.time_zone, now
                )
                set_categories(connection, subscriber_id, choices.categories)
            elif (sent := subscriber.confirmation_sent_at) and now - sent < RESEND_AFTER:
                return None
            else:
                subscriber_id = subscriber.id
            update_subscriber(connection, subscriber_id, confirmation_sent_at=now)
            return subscriber_by_id(connection, subscriber_id)
    except IntegrityError:  # asked for twice at once: the other request mails the link
        return None


def mailbox(address: str) -> str:
    """The mailbox an address reaches, for counting only: a+tag@x, a.b@x and ab@x are one
    (plus-addressing everywhere, dots as Gmail ignores them)."""
    local, _, domain = address.partition("@")
    return f"{local.split('+')[0].replace('.', '')}@{domain}"


def confirmation_rules(settings: Settings, email: str, client: str) -> list[Rule]:
    """The limits on confirmation mails: per asking address, per mailbox, for the site."""
    limits = [
        ("address", client, settings.rate_limit_confirmations_per_address, "from your address"),
        ("mailbox", mailbox(email), settings.rate_limit_confirmations_per_mailbox, "to it"),
        ("site", "all", settings.rate_limit_confirmations_per_site, "from this site"),
    ]
    return [
        Rule(f"confirmations/{kind}/{name}", Rate.parse(rate), f"too many confirmation mails {to}")
        for kind, name, rate, to in limits
    ]


def limit_confirmation_mails(
    settings: Settings, store: Store, email: str, client: str, now: datetime
) -> None:
    """Count a confirmation mail to `email` asked for from `client`, or raise RateLimited
    (counting nothing); subscriptions and accounts' addresses share these limits."""
    if settings.rate_limits:
        enforce(store, confirmation_rules(settings, email, client), now.timestamp())


def subscribe(
    settings: Settings,
    store: Store,
    email: str,
    choices: Choices,
    user_id: int | None,
    now: datetime,
    client: str = "unknown",
) -> None:
    """Mail `email` a link that confirms these choices (and links the account `user_id`),
    within the limits on confirmation mails (RateLimited) for a request from `client`.
    Nothing else is ever sent to an address before its owner follows such a link."""
    subscriber = request_subscription(store, email, choices, now)
    if subscriber is None:
        return
    try:
        limit_confirmation_mails(settings, store, email, client, now)
    except RateLimited:
        _not_mailed(store, subscriber)
        raise
    base = settings.base_url.rstrip("/")
    token = link_signer(settings, store).make(
        CONFIRM, confirmation_payload(subscriber, choices, user_id, now)
    )
    confirm_url = f"{base}/subscribe/confirm/{token}"
    try:
        sender = sender_address(settings.mail_from)
        message = MailWriter(sender, now).confirmation(email, choices, confirm_url, base)
        send_for_request(settings, sender.addr_spec, email, message)
    except (SmtpFailure, AddressSettingError) as failure:
        _not_mailed(store, subscriber)
        reason = reason_for_readers(failure, settings)
        raise ConfirmationNotSent(
            f"the confirmation mail could not be sent ({reason}); try again later", "email"
        ) from None


def _not_mailed(store: Store, subscriber: Subscriber) -> None:
    """No confirmation went out after all: let the next request mail one at once."""
    with store.transaction() as connection:
        update_subscriber(connection, subscriber.id, confirmation_sent_at=None)


def confirmation_payload(
    subscriber: Subscriber, choices: Choices, user_id: int | None, now: datetime
) -> dict[str, Any]:
    """What a confirmation link carries: who, their choices, the account to link, and when
    it was made (a link confirms once: not after any confirmation since then)."""
    return {
        **holder_payload(subscriber),
        "f": choices.frequency,
        "c": list(choices.categories),
        "z": choices.time_zone,
        "u": user_id,
        "t": now.timestamp(),
    }


def unused_confirmation(connection: Connection, payload: dict[str, Any]) -> Subscriber:
    """The subscriber a confirmation link names, unless it (or a later link) was followed
    already: else a link would subscribe again, for its 7 days, someone who had left."""
    subscriber = holder(connection, payload)
    made = payload.get("t")
    confirmed = subscriber.confirmed_at
    if confirmed is not None and not (isinstance(made, float) and made > confirmed.timestamp()):
        raise TokenError("this confirmation link was used already; ask for a new one")
    return subscriber


def holder_payload(subscriber: Subscriber) -> dict[str, Any]:
    """What unsubscribe and manage links carry."""
    return {"s": subscriber.id, "e": subscriber.email}


def holder(connection: Connection, payload: dict[str, Any]) -> Subscriber:
    """The subscriber a link names; TokenError when they are gone."""
    subscriber = subscriber_by_id(connection, int(payload.get("s", 0)))
    if subscriber is None or subscriber.email != payload.get("e"):
        raise TokenError("this link is for a subscription that no longer exists")
    return subscriber


def confirm(store: Store, payload: dict[str, Any], now: datetime) -> Subscriber:
    """Follow a confirmation link: its choices take effect, digests start (again)."""
    choices = Choices(str(payload["f"]), tuple(payload["c"]), str(payload["z"]))
    with store.transaction() as connection:
        subscriber = unused_confirmation(connection, payload)
        _apply(connection, subscriber.id, choices)
        update_subscriber(connection, subscriber.id, confirmed_at=now, unsubscribed_at=None)
        if payload.get("u") is not None:
            _link_user(connection, subscriber.id, int(payload["u"]))
        return subscriber_by_id(connection, subscriber.id)  # type: ignore[return-value]


def unsubscribe(store: Store, payload: dict[str, Any], now: datetime) -> Subscriber:
    """Stop the digests; a second unsubscribe changes nothing."""
    with store.transaction() as connection:
        subscriber = holder(connection, payload)
        if subscriber.unsubscribed_at is None:
            update_subscriber(connection, subscriber.id, unsubscribed_at=now)
        return subscriber_by_id(connection, subscriber.id)  # type: ignore[return-value]


def change_choices(store: Store, subscriber: Subscriber, choices: Choices) -> None:
    with store.transaction() as connection:
        _apply(connection, subscriber.id, choices)


def save_search(store: Store, subscriber: Subscriber, query: str, now: datetime) -> None:
    query = check_query(query)
    if len(subscriber.searches) >= MAX_SEARCHES:
        raise SubscriptionError(f"at most {MAX_SEARCHES} saved searches", "query")
    with store.transaction() as connection:
        add_search(connection, subscriber.id, query, now)


def drop_search(store: Store, subscriber: Subscriber, search_id: int) -> None:
    with store.transaction() as connection:
        if not remove_search(connection, subscriber.id, search_id):
            raise SubscriptionError(f"no saved search {search_id}", "search_id")


def add_confirmed(
    store: Store, email: str, choices: Choices, queries: Iterable[str], now: datetime
) -> Subscriber:
    """An admin's subscriber, confirmed at once; an existing one gets these choices and the
    searches added, and is subscribed again if they had left."""
    queries = [check_query(query) for query in queries]
    with store.transaction() as connection:
        subscriber = subscriber_by_email(connection, email)
        if subscriber is None:
            subscriber_id = add_subscriber(
                connection, email, choices.frequency, choices.time_zone, now
            )
        else:
            subscriber_id = subscriber.id
        _apply(connection, subscriber_id, choices)
        update_subscriber(connection, subscriber_id, confirmed_at=now, unsubscribed_at=None)
        for query in queries:
            add_search(connection, subscriber_id, query, now)
        return subscriber_by_id(connection, subscriber_id)  # type: ignore[return-value]


def remove_subscriber(store: Store, email: str) -> None:
    """Forget a subscriber entirely: choices, searches and outbox rows."""
    with store.transaction() as connection:
        subscriber = subscriber_by_email(connection, email)
        if subscriber is None:
            raise SubscriptionError(f"no subscriber {email}", "email")
        delete_subscriber(connection, subscriber.id)


def _apply(connection: Connection, subscriber_id: int, choices: Choices) -> None:
    update_subscriber(
        connection, subscriber_id, frequency=choices.frequency, time_zone=choices.time_zone
    )
    set_categories(connection, subscriber_id, choices.categories)


def _link_user(connection: Connection, subscriber_id: int, user_id: int) -> None:
    """An account has one subscription: the one confirmed last."""
    previous = subscriber_of_user(connection, user_id)
    if previous is not None and previous.id != subscriber_id:
        update_subscriber(connection, previous.id, user_id=None)
    update_subscriber(connection, subscriber_id, user_id=user_id)
