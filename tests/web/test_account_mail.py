"""An account's address and "forgot password" through the site and a real SMTP server: the
confirmation link, the reset link (an hour, once), and answers that never tell who exists."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from dailypapers.account_mail import reset_password
from dailypapers.config import Settings
from dailypapers.mail.tokens import RESET, LinkSigner, TokenError, site_secret
from dailypapers.storage import Store
from dailypapers.storage.users import user_by_name
from dailypapers.web import create_app
from tests.mail.helpers import text_and_html
from tests.smtp_server import Mailbox
from tests.web.test_accounts import (
    PASSWORD,
    bearer,
    login,
    post_form,
    signed_in_as,
    signup,
    token_in,
)

LINK = re.compile(r"http://testserver(/\S+)")
NEW_PASSWORD = "a brand new secret"
ADDRESS = "ada@example.org"


@pytest.fixture
def site(store: Store, mail_settings: Settings) -> TestClient:
    return TestClient(create_app(mail_settings, store))


def link_to(mailbox: Mailbox, address: str, start: str) -> str:
    """The site path of the link starting with `start` in the last mail to `address`."""
    text, _ = text_and_html(mailbox.to(address)[-1])
    return next(path for path in LINK.findall(text) if path.startswith(start))


def confirmed_address(site: TestClient, mailbox: Mailbox) -> None:
    """Sign up as ada, give ADDRESS, follow the mailed link."""
    signup(site)
    set_it = post_form(site, "/account/address", email="Ada@Example.org", password=PASSWORD)
    assert set_it.status_code == 200 and f"A link to confirm it went to {ADDRESS}" in set_it.text
    assert site.get("/account.json").json()["email_confirmed"] is False
    path = link_to(mailbox, ADDRESS, "/account/address/confirm/")
    assert "Confirm" in site.get(path).text
    assert site.get("/account.json").json()["email_confirmed"] is False  # a GET confirms nothing
    confirmed = post_form(site, path)
    assert confirmed.status_code == 200 and f"{ADDRESS} is confirmed" in confirmed.text
    assert post_form(site, path).status_code == 200  # twice: nothing changes
    assert site.get("/account.json").json() | {"tokens": []} == {
        "username": "ada",
        "is_admin": False,
        "tokens": [],
        "new_token": None,
        "email": ADDRESS,
        "email_confirmed": True,
        "private_upvotes": False,
        "reply_mails": True,
    }


def test_forgot_password_mails_a_link_that_sets_a_new_password_once(
    site: TestClient, mailbox: Mailbox
) -> None:
    confirmed_address(site, mailbox)
    token = token_in(post_form(site, "/account/tokens", name="ci", password=PASSWORD))
    anonymous = TestClient(site.app)
    assert 'href="/forgot"' in anonymous.get("/login").text
    asked = post_form(anonymous, "/forgot", who="ADA")
    assert asked.status_code == 200 and "If an account of that name or address" in asked.text
    path = link_to(mailbox, ADDRESS, "/reset/")
    assert mailbox.to(ADDRESS)[-1]["Subject"] == "Set a new password"
    form = anonymous.get(path)
    assert form.status_code == 200 and "<strong>ada</strong>" in form.text
    short = post_form(anonymous, path, new_password="short", new_password_again="short")
    assert short.status_code == 400 and "a password is 8 to 256 characters" in short.text
    fields = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    done = post_form(anonymous, path, **fields)
    assert done.status_code == 200 and "Your new password is set" in done.text
    assert signed_in_as(site) is None  # every session ended
    assert anonymous.get("/account.json", headers=bearer(token)).status_code == 401
    assert login(anonymous, "ada", PASSWORD).status_code == 401
    assert login(anonymous, "ada", NEW_PASSWORD).status_code == 303
    again = post_form(TestClient(site.app), path, **fields | {"new_password": "x" * 12})
    assert again.status_code == 400 and "was used already" in again.text
    assert TestClient(site.app).get(path).status_code == 400


def test_a_reset_link_expires_after_an_hour(
    site: TestClient, store: Store, mail_settings: Settings, mailbox: Mailbox
) -> None:
    confirmed_address(site, mailbox)
    post_form(TestClient(site.app), "/forgot", who=ADDRESS)
    fresh = link_to(mailbox, ADDRESS, "/reset/").removeprefix("/reset/")
    payload = LinkSigner(site_secret(mail_settings, store)).read(RESET, fresh)
    an_hour_ago = LinkSigner(site_secret(mail_settings, store), clock=lambda: time.time() - 3601)
    expired = an_hour_ago.make(RESET, payload)
    reader = TestClient(site.app)
    page = reader.get(f"/reset/{expired}")
    assert page.status_code == 400 and "this password reset link has expired" in page.text
    fields = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    assert post_form(reader, f"/reset/{expired}", **fields).status_code == 400
    assert login(reader, "ada", PASSWORD).status_code == 303


def test_the_answer_is_the_same_whoever_is_asked_about(
    site: TestClient, store: Store, mailbox: Mailbox
) -> None:
    confirmed_address(site, mailbox)
    signup(TestClient(site.app), "bob")  # an account without an address
    mails = mailbox.count()
    answers = set()
    hostile = ("not an address @", "ada\x00", "x" * 5000, "ADA@EXAMPLE.ORG\x00")
    for who in ("ada", "bob", "nobody", ADDRESS, "nobody@example.org", *hostile):
        page = post_form(TestClient(site.app), "/forgot", who=who)
        answers.add((page.status_code, page.text))
    assert len(answers) == 1
    assert mailbox.count() == mails + 1  # to ada, once: the second ask came within 10 minutes
    with store.read() as connection:
        assert user_by_name(connection, "bob") is not None


def test_changing_the_address_needs_the_password_and_a_new_confirmation(
    site: TestClient, mailbox: Mailbox
) -> None:
    confirmed_address(site, mailbox)
    old_link = link_to(mailbox, ADDRESS, "/account/address/confirm/")
    wrong = post_form(site, "/account/address", email="eve@example.org", password="a guess")
    assert wrong.status_code == 400 and "the password is wrong" in wrong.text
    bad = post_form(site, "/account/address", email="not an address", password=PASSWORD)
    assert bad.status_code == 400 and "is not an address" in bad.text
    post_form(site, "/account/address", email="ada@new.example", password=PASSWORD)
    assert site.get("/account.json").json()["email_confirmed"] is False
    stale = post_form(site, old_link)
    assert stale.status_code == 400 and "no longer has" in stale.text
    post_form(TestClient(site.app), "/forgot", who="ada")  # unconfirmed: no reset mail
    assert mailbox.to("ada@new.example")[-1]["Subject"] == "Confirm your address"


def test_a_reset_link_used_twice_at_once_sets_one_password(
    site: TestClient, store: Store, mail_settings: Settings, mailbox: Mailbox
) -> None:
    confirmed_address(site, mailbox)
    post_form(TestClient(site.app), "/forgot", who="ada")
    token = link_to(mailbox, ADDRESS, "/reset/").removeprefix("/reset/")
    start = threading.Barrier(2)

    def use(password: str) -> str:
        start.wait()
        try:
            reset_password(mail_settings, store, token, password)
        except TokenError:
            return "refused"
        return password

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(use, ["first new secret", "second new secret"]))
    (winner,) = [outcome for outcome in outcomes if outcome != "refused"]
    assert outcomes.count("refused") == 1
    assert login(TestClient(site.app), "ada", winner).status_code == 303
