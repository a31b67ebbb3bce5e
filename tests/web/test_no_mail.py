"""A site without an SMTP server says so where it would mail, offers no form that cannot work,
and never shows a reader where its mail server is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.web import create_app
from tests.live_server import free_port
from tests.mail.helpers import mail_settings_for
from tests.smtp_server import Mailbox
from tests.web.conftest import csrf

NOT_SET_UP = "Email is not set up on this site"


@pytest.mark.parametrize(
    ("path", "form"),
    [("/subscribe", 'action="/subscribe"'), ("/forgot", 'action="/forgot"')],
)
def test_pages_that_mail_say_email_is_not_set_up_and_offer_no_form(
    site: TestClient, path: str, form: str
) -> None:
    page = site.get(path)
    assert page.status_code == 200 and NOT_SET_UP in page.text
    assert "DAILYPAPERS_SMTP_HOST" in page.text  # what an admin sets
    assert form not in page.text


def test_a_signed_in_readers_digest_page_says_so_too(
    site: TestClient, sign_in: Callable[..., User]
) -> None:
    sign_in(site)
    page = site.get("/subscription")
    assert page.status_code == 200 and NOT_SET_UP in page.text
    assert 'action="/subscribe"' not in page.text


def test_posting_anyway_is_a_503_with_the_reason_and_stores_nobody(
    site: TestClient, store: Store
) -> None:
    fields = {"csrf_token": csrf(site), "email": "ada@example.org"}
    answer = site.post("/subscribe.json", data=fields)
    assert answer.status_code == 503
    assert answer.json() == {"error": "email is not set up on this site", "field": "email"}
    page = site.post("/subscribe", data=fields)
    assert page.status_code == 503 and NOT_SET_UP in page.text
    forgot = site.post("/forgot", data={"csrf_token": fields["csrf_token"], "who": "ada"})
    assert forgot.status_code == 503 and NOT_SET_UP in forgot.text
    with store.read() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM subscribers").scalar() == 0


def test_a_site_with_mail_offers_the_forms(store: Store, mailbox: Mailbox) -> None:
    site = TestClient(create_app(mail_settings_for(mailbox), store))
    for path in ("/subscribe", "/forgot"):
        page = site.get(path).text
        assert NOT_SET_UP not in page and f'action="{path}"' in page


def test_a_failing_mail_server_is_one_line_without_its_address(store: Store) -> None:
    port = free_port()  # nothing listens there
    site = TestClient(create_app(Settings(smtp_host="127.0.0.1", smtp_port=port), store))
    fields = {"csrf_token": csrf(site), "email": "ada@example.org"}
    answer = site.post("/subscribe.json", data=fields)
    reason = answer.json()["error"]
    assert answer.status_code == 503 and "\n" not in reason
    assert reason.startswith("the confirmation mail could not be sent (cannot reach the mail")
    page = site.post("/subscribe", data=fields)
    assert page.status_code == 503 and "cannot reach the mail server" in page.text
    for said in (reason, page.text):
        assert "127.0.0.1" not in said and str(port) not in said
