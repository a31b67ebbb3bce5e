"""Digests by mail through the site and a real SMTP server: subscribe, the confirmation mail,
its link, the digest, its unsubscribe link and header, settings, and bad input."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.mail.delivery import send_digests
from dailypapers.mail.tokens import CONFIRM, UNSUBSCRIBE, LinkSigner, link_signer
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.secret import stored_signing_secret
from dailypapers.storage.subscriptions import subscriber_by_email, update_subscriber
from dailypapers.web import create_app
from tests.live_server import free_port
from tests.mail.helpers import DAY, mail_settings_for, text_and_html
from tests.smtp_server import Mailbox
from tests.web.conftest import csrf

LINK = re.compile(r"http://testserver(/\S+)")


@pytest.fixture
def client(store: Store, mail_settings: Settings) -> TestClient:
    return TestClient(create_app(mail_settings, store))


def post(client: TestClient, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf(client), **fields}, follow_redirects=False)


def link_in(message: EmailMessage, start: str) -> str:
    """The site path of the first link in the mail's text that starts with `start`."""
    text, _ = text_and_html(message)
    return next(path for path in LINK.findall(text) if path.startswith(start))


def confirmation_path(mailbox: Mailbox, email: str) -> str:
    (message,) = mailbox.to(email)
    assert message["Subject"].startswith("Confirm your")
    return link_in(message, "/subscribe/confirm/")


def test_subscribe_confirm_receive_a_digest_and_unsubscribe(
    client: TestClient,
    store: Store,
    mail_settings: Settings,
    mailbox: Mailbox,
    feed: dict[str, str],
) -> None:
    assert 'action="/subscribe"' in client.get("/subscribe").text
    answer = post(
        client, "/subscribe", email="Ada@Example.org", categories="cs.CL", frequency="daily"
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    confirm = confirmation_path(mailbox, "ada@example.org")
    assert send_digests(store, mail_settings, "daily", DAY).subscribers == 0  # not confirmed

    page = client.get(confirm)  # a link checker opening it subscribes nobody
    assert page.status_code == 200 and "Confirm your digest" in page.text
    assert send_digests(store, mail_settings, "daily", DAY).subscribers == 0
    confirmed = post(client, confirm)
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    manage = re.search(r'href="(/subscription\?token=[^"]+)"', confirmed.text)[1]  # type: ignore[index]
    token = manage.split("=", 1)[1]
    assert post(client, "/subscription/searches", token=token, query="diffusion").status_code == 303

    assert send_digests(store, mail_settings, "daily", DAY).sent == 1
    confirmation, digest = mailbox.to("ada@example.org")
    assert digest.get_content_type() == "multipart/alternative"
    text, html = text_and_html(digest)
    assert feed["attention"] in text and f'/papers/{feed["attention"]}"' in html  # cs.CL
    assert 'New papers matching "diffusion"' in text and feed["diffusion"] in text
    assert feed["robots"] not in text and feed["graphs"] not in text
    assert send_digests(store, mail_settings, "daily", DAY).sent == 0  # same period: nothing

    unsubscribe = link_in(digest, "/unsubscribe/")
    assert digest["List-Unsubscribe"] == f"<http://testserver{unsubscribe}>"
    page = client.get(unsubscribe)
    assert page.status_code == 200 and "Stop the digests to ada@example.org?" in page.text
    # What a mail client does on its own (RFC 8058): no cookie, no CSRF token, no sign-in.
    one_click = TestClient(client.app).post(
        unsubscribe,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
    with store.read() as connection:
        assert not subscriber_by_email(connection, "ada@example.org").active  # type: ignore[union-attr]
    assert send_digests(store, mail_settings, "daily", DAY.replace(day=2)).subscribers == 0
    assert len(mailbox.to("ada@example.org")) == 2


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("not-an-address", "An email address must have an @-sign."),
        ("ada@example", "It should have a period."),
        ("ada@example.org\r\nBcc: eve@example.org", "is not an address"),
    ],
)
def test_an_invalid_address_gets_the_form_again_with_the_reason(
    client: TestClient, mailbox: Mailbox, email: str, reason: str
) -> None:
    answer = post(client, "/subscribe", email=email)
    assert answer.status_code == 400
    assert reason in answer.text and 'action="/subscribe"' in answer.text
    assert mailbox.count() == 0


def test_unknown_choices_are_refused_with_the_field(
    client: TestClient, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    answer = post(client, "/subscribe.json", email="ada@example.org", categories="cs.XX")
    assert answer.status_code == 400
    assert answer.json() == {"error": "no papers in category 'cs.XX'", "field": "categories"}
    answer = post(client, "/subscribe", email="ada@example.org", time_zone="Mars/Olympus")
    assert answer.status_code == 400 and "unknown time zone" in answer.text
    assert mailbox.count() == 0


def test_asking_twice_mails_one_confirmation_and_confirmation_is_needed_again(
    client: TestClient,
    store: Store,
    mail_settings: Settings,
    mailbox: Mailbox,
    feed: dict[str, str],
) -> None:
    for _ in range(2):
        assert post(client, "/subscribe", email="ada@example.org").status_code == 200
    assert mailbox.count() == 1


def test_tampered_links_give_a_clear_400(
    client: TestClient, store: Store, mail_settings: Settings, feed: dict[str, str]
) -> None:
    post(client, "/subscribe", email="ada@example.org")
    signer = link_signer(mail_settings, store)
    good = signer.make(UNSUBSCRIBE, {"s": 1, "e": "ada@example.org"})
    gone = signer.make(UNSUBSCRIBE, {"s": 2, "e": "bob@example.org"})
    for path, reason in [
        (f"/unsubscribe/{good[:-2]}", "unsubscribe link is not valid"),
        (f"/unsubscribe/x{good}", "unsubscribe link is not valid"),
        ("/subscribe/confirm/nonsense", "confirm link is not valid"),
        (f"/subscribe/confirm/{good}", "confirm link is not valid"),
        (f"/unsubscribe/{gone}", "subscription that no longer exists"),
    ]:
        for answer in (client.get(path), post(client, path)):
            assert answer.status_code == 400, path
            assert reason in answer.text and "Something is wrong" in answer.text
    answer = client.get(f"/unsubscribe/{good[:-2]}.json")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("this unsubscribe link is not valid")


def test_an_expired_confirmation_link_is_refused(
    client: TestClient, store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    post(client, "/subscribe", email="ada@example.org")
    token = confirmation_path(mailbox, "ada@example.org").rsplit("/", 1)[1]
    with store.read() as connection:  # the key the site made and keeps in the database
        secret = stored_signing_secret(connection)
    assert secret is not None
    payload = LinkSigner(secret).read(CONFIRM, token)
    eight_days_ago = time.time() - 8 * 86400
    old = LinkSigner(secret, clock=lambda: eight_days_ago).make(CONFIRM, payload)
    path = f"/subscribe/confirm/{old}"
    for answer in (client.get(path), post(client, path)):
        assert answer.status_code == 400 and "confirm link has expired" in answer.text


def test_confirming_needs_the_forms_csrf_token_but_unsubscribing_does_not(
    client: TestClient, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    post(client, "/subscribe", email="ada@example.org")
    confirm = confirmation_path(mailbox, "ada@example.org")
    assert TestClient(client.app).post(confirm).status_code == 403


def test_a_signed_in_user_manages_their_subscription(
    client: TestClient,
    store: Store,
    mailbox: Mailbox,
    feed: dict[str, str],
    sign_in: Callable[..., User],
) -> None:
    assert client.get("/subscription").status_code == 401
    sign_in(client, "ada")
    page = client.get("/subscription")
    assert "You have no digest yet" in page.text and 'action="/subscribe"' in page.text
    assert client.get("/subscription.json").json()["subscription"] is None
    post(client, "/subscribe", email="ada@example.org", categories="cs.LG", frequency="weekly")
    confirm = confirmation_path(mailbox, "ada@example.org")
    assert "The site account <strong>ada</strong> will manage it" in client.get(confirm).text
    post(client, confirm)

    shown = client.get("/subscription.json").json()["subscription"]
    assert shown == {
        "email": "ada@example.org",
        "state": "active",
        "frequency": "weekly",
        "time_zone": "UTC",
        "categories": ["cs.LG"],
        "searches": [],
    }
    changed = post(
        client,
        "/subscription",
        frequency="daily",
        categories="cs.CL cs.RO",
        time_zone="Europe/Paris",
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/subscription"
    post(client, "/subscription/searches", query='"sparse attention" author:Lovelace')
    post(client, "/subscription/searches", query="robots\r\ngrasping")
    shown = client.get("/subscription.json").json()["subscription"]
    assert (shown["frequency"], shown["categories"], shown["time_zone"]) == (
        "daily",
        ["cs.CL", "cs.RO"],
        "Europe/Paris",
    )
    assert [s["query"] for s in shown["searches"]] == [
        '"sparse attention" author:Lovelace',
        "robots grasping",
    ]
    page = client.get("/subscription").text
    assert "&#34;sparse attention&#34; author:Lovelace" in page and "Unsubscribe" in page
    first = shown["searches"][0]["id"]
    assert post(client, f"/subscription/searches/{first}/delete").status_code == 303
    assert post(client, "/subscription/searches/9999/delete").status_code == 404
    shown = client.get("/subscription.json").json()["subscription"]
    assert [s["query"] for s in shown["searches"]] == ["robots grasping"]
    refused = post(client, "/subscription", categories="nonsense!")
    assert refused.status_code == 400 and "no papers in category" in refused.text


def test_an_unreachable_smtp_server_is_a_503_and_a_later_try_works(
    store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    down = TestClient(create_app(mail_settings_for(mailbox, smtp_port=free_port()), store))
    answer = post(down, "/subscribe", email="ada@example.org")
    assert answer.status_code == 503 and "try again later" in answer.text
    up = TestClient(create_app(mail_settings_for(mailbox), store))
    assert post(up, "/subscribe", email="ada@example.org").status_code == 200
    assert len(mailbox.to("ada@example.org")) == 1


def test_thirty_plus_addresses_of_one_mailbox_get_five_mails(
    client: TestClient, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    """The form was a mail cannon: 30 plus-addresses of one mailbox got 30 mails in 2 s."""
    answers = [post(client, "/subscribe", email=f"ada+{n}@example.org") for n in range(30)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 25
    assert mailbox.count() == 5
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    assert "too many confirmation mails" in refused.text
    answer = client.post(
        "/subscribe.json",
        data={"email": "ada+31@example.org"},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert answer.status_code == 429 and answer.json()["error"].startswith("too many confirmation")


@pytest.mark.parametrize(
    ("limit", "addresses", "mailed"),
    [
        # one mailbox however it is written: plus tags and dots
        ("mailbox", ["a.b+1@x.org", "ab+2@x.org", "a.b@x.org", "A.B+3@x.org"], 3),
        # many mailboxes, one site
        ("site", [f"reader{n}@x.org" for n in range(5)], 3),
    ],
)
def test_confirmation_mails_are_limited_per_mailbox_and_per_site(
    store: Store,
    mailbox: Mailbox,
    feed: dict[str, str],
    limit: str,
    addresses: list[str],
    mailed: int,
) -> None:
    settings = mail_settings_for(
        mailbox,
        rate_limit_confirmations_per_address="100/hour",
        **{f"rate_limit_confirmations_per_{limit}": "3/hour"},
    )
    client = TestClient(create_app(settings, store))
    statuses = [post(client, "/subscribe", email=address).status_code for address in addresses]
    assert statuses == [200] * mailed + [429] * (len(addresses) - mailed)
    assert mailbox.count() == mailed


def test_refused_confirmations_leave_no_trace_and_rate_limits_false_lifts_them(
    store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    strict = mail_settings_for(mailbox, rate_limit_confirmations_per_site="0/hour")
    assert (
        post(TestClient(create_app(strict, store)), "/subscribe", email="ada@x.org").status_code
        == 429
    )
    with store.read() as connection:  # refused: the next allowed request mails at once
        assert subscriber_by_email(connection, "ada@x.org").confirmation_sent_at is None  # type: ignore[union-attr]
    off = mail_settings_for(mailbox, rate_limit_confirmations_per_site="0/hour", rate_limits=False)
    client = TestClient(create_app(off, store))
    for n in range(8):
        assert post(client, "/subscribe", email=f"ada+{n}@x.org").status_code == 200
    assert mailbox.count() == 8


def test_a_confirmation_link_confirms_once(
    client: TestClient, store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    """It re-subscribed, for its 7 days, whoever had unsubscribed since."""
    post(client, "/subscribe", email="ada@example.org")
    confirm = confirmation_path(mailbox, "ada@example.org")
    assert post(client, confirm).status_code == 200
    with store.read() as connection:
        ada = subscriber_by_email(connection, "ada@example.org")
    assert ada is not None and ada.active
    unsubscribe = link_signer(client.app.state.settings, store).make(  # type: ignore[attr-defined]
        UNSUBSCRIBE, {"s": ada.id, "e": ada.email}
    )
    assert post(client, f"/unsubscribe/{unsubscribe}").status_code == 200

    for answer in (client.get(confirm), post(client, confirm), post(client, f"{confirm}.json")):
        assert answer.status_code == 400
        assert "confirmation link was used already" in answer.text
    with store.read() as connection:
        assert not subscriber_by_email(connection, "ada@example.org").active  # type: ignore[union-attr]


def test_a_link_asked_for_after_confirming_still_works(
    store: Store, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    """Confirm once means once per link: a new link (new choices, say) confirms again."""
    signer_settings = mail_settings_for(mailbox)
    client = TestClient(create_app(signer_settings, store))
    post(client, "/subscribe", email="ada@example.org")
    assert post(client, confirmation_path(mailbox, "ada@example.org")).status_code == 200
    with store.transaction() as connection:  # ten minutes on: the form mails again
        ada = subscriber_by_email(connection, "ada@example.org")
        update_subscriber(connection, ada.id, confirmation_sent_at=None)  # type: ignore[union-attr]
    post(client, "/subscribe", email="ada@example.org", frequency="weekly")
    second = link_in(mailbox.to("ada@example.org")[-1], "/subscribe/confirm/")
    assert post(client, second).status_code == 200
    with store.read() as connection:
        assert subscriber_by_email(connection, "ada@example.org").frequency == "weekly"  # type: ignore[union-attr]
