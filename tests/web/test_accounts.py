"""Accounts through HTTP: sign up, log in and out, CSRF, the rate limit, the account page,
API tokens, and bans by admins."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from dailypapers.accounts import log_in, sign_up
from dailypapers.config import Settings
from dailypapers.storage import Store
from dailypapers.web import create_app
from dailypapers.web.deps import SESSION_COOKIE
from tests.web.conftest import csrf

PASSWORD = "correct horse battery"


def post_form(client: TestClient, path: str, **fields: str) -> Response:
    return client.post(path, data={"csrf_token": csrf(client), **fields}, follow_redirects=False)


def signup(client: TestClient, username: str = "ada", **extra: str) -> Response:
    fields = {"username": username, "password": PASSWORD, "password_again": PASSWORD}
    return post_form(client, "/signup", **(fields | extra))


def login(client: TestClient, username: str = "ada", password: str = PASSWORD) -> Response:
    return post_form(client, "/login", username=username, password=password)


def token_in(page: Response) -> str:
    return re.search(r'<code class="token">([^<]+)</code>', page.text)[1]  # type: ignore[index]


def signed_in_as(client: TestClient) -> str | None:
    page = client.get("/")
    found = re.search(r'<a href="/account" class="who">([^<]+)</a>', page.text)
    return found[1] if found else None


def test_sign_up_sets_a_session_cookie_and_signs_in(site: TestClient) -> None:
    assert "Sign up" in site.get("/signup").text
    response = signup(site, "Ada")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Max-Age=2592000" in cookie and "Secure" not in cookie
    assert signed_in_as(site) == "ada"
    assert site.get("/account.json").json() == {
        "username": "ada",
        "is_admin": False,
        "tokens": [],
        "new_token": None,
        "email": None,
        "email_confirmed": False,
        "private_upvotes": False,
        "reply_mails": True,
    }


def test_the_session_cookie_is_secure_over_https(store: Store) -> None:
    client = TestClient(create_app(Settings(), store), base_url="https://testserver")
    cookie = signup(client).headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/papers/2606.32040?x=1", "/papers/2606.32040?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("account", "/"),
    ],
)
def test_after_signing_in_only_local_paths_are_followed(
    site: TestClient, target: str, landing: str
) -> None:
    assert signup(site, next=target).headers["location"] == landing
    site.cookies.delete(SESSION_COOKIE)
    assert login(site).status_code == 303
    response = post_form(site, "/login", username="ada", password=PASSWORD, next=target)
    assert response.headers["location"] == landing


def test_the_login_form_carries_next_along(site: TestClient) -> None:
    page = site.get("/login", params={"next": "/trending"})
    assert '<input type="hidden" name="next" value="/trending">' in page.text


def test_log_out_ends_the_session(site: TestClient) -> None:
    signup(site)
    session = site.cookies[SESSION_COOKIE]
    response = post_form(site, "/logout")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert signed_in_as(site) is None
    site.cookies.set(SESSION_COOKIE, session)  # the old cookie is dead on the server too
    assert signed_in_as(site) is None
    assert site.get("/account").status_code == 401


def test_log_in_then_wrong_passwords_then_the_rate_limit(site: TestClient) -> None:
    signup(site)
    site.cookies.delete(SESSION_COOKIE)
    response = login(site, "ADA")
    assert response.status_code == 303 and SESSION_COOKIE in response.cookies
    assert signed_in_as(site) == "ada"
    site.cookies.delete(SESSION_COOKIE)
    for _ in range(5):
        refused = login(site, "ada", "not the password")
        assert refused.status_code == 401
        assert '<p class="error" role="alert">wrong username or password</p>' in refused.text
        assert 'name="username" value="ada"' in refused.text
    limited = login(site, "ada", PASSWORD)
    assert limited.status_code == 429 and 890 < int(limited.headers["retry-after"]) <= 900
    assert "too many failed log-ins: try again in 15 minutes" in limited.text
    assert SESSION_COOKIE not in limited.cookies


def test_posts_without_the_right_csrf_token_are_refused(site: TestClient) -> None:
    site.get("/login")
    fields = {"username": "ada", "password": PASSWORD, "password_again": PASSWORD}
    for sent in ({}, {"csrf_token": "forged"}):
        for path in ("/signup", "/login", "/logout"):
            response = site.post(path, data=fields | sent, follow_redirects=False)
            assert response.status_code == 403, path
            assert "the form expired or came from another site" in response.text
    assert site.get("/signup").status_code == 200 and signed_in_as(site) is None


def test_form_errors_are_one_line_and_keep_what_was_typed(site: TestClient) -> None:
    assert signup(site).status_code == 303
    other = TestClient(site.app)
    taken = signup(other, "ADA")
    assert taken.status_code == 400
    assert '<p class="error" role="alert">the username ada is taken</p>' in taken.text
    assert 'name="username" value="ADA"' in taken.text
    differ = signup(other, "bob", password_again="something else")
    assert differ.status_code == 400 and "the two passwords differ" in differ.text
    short = signup(other, "bob", password="short", password_again="short")
    assert short.status_code == 400 and "a password is 8 to 256 characters long" in short.text
    assert other.get("/account").status_code == 401


def test_a_password_change_keeps_this_session_and_ends_the_others(
    store: Store, site: TestClient
) -> None:
    signup(site)
    token = token_in(post_form(site, "/account/tokens", name="script", password=PASSWORD))
    laptop = TestClient(site.app)
    login(laptop)
    assert signed_in_as(laptop) == "ada"
    fields = {"old_password": PASSWORD, "new_password": "a brand new secret"}
    differ = post_form(site, "/account/password", **fields, new_password_again="typo")
    assert differ.status_code == 400 and "the two new passwords differ" in differ.text
    wrong = post_form(
        site,
        "/account/password",
        **(fields | {"old_password": "a wrong guess"}),
        new_password_again="a brand new secret",
    )
    assert wrong.status_code == 400 and "the current password is wrong" in wrong.text
    done = post_form(site, "/account/password", **fields, new_password_again="a brand new secret")
    assert done.status_code == 200 and "Password changed" in done.text
    assert signed_in_as(site) == "ada"
    assert signed_in_as(laptop) is None
    bearer = {"Authorization": f"Bearer {token}"}
    assert TestClient(site.app).get("/account.json", headers=bearer).status_code == 401
    assert "No tokens yet" in site.get("/account").text
    assert login(laptop, "ada", PASSWORD).status_code == 401
    assert login(laptop, "ada", "a brand new secret").status_code == 303


def test_an_api_token_is_shown_once_and_works_as_a_bearer(site: TestClient) -> None:
    signup(site)
    made = post_form(site, "/account/tokens", name="laptop script", password=PASSWORD)
    assert made.status_code == 200
    token = token_in(made)
    assert token not in site.get("/account").text
    assert "laptop script" in site.get("/account").text
    script = TestClient(site.app)
    account = script.get("/account.json", headers={"Authorization": f"Bearer {token}"})
    assert account.status_code == 200
    assert account.json()["username"] == "ada"
    assert [t["name"] for t in account.json()["tokens"]] == ["laptop script"]
    assert script.get("/account.json", headers={"Authorization": "Bearer nope"}).status_code == 401
    unnamed = post_form(site, "/account/tokens", name=" ", password=PASSWORD)
    assert unnamed.status_code == 400 and "a token name is 1 to 64 characters" in unnamed.text


def test_json_clients_get_their_token_and_errors_as_json(site: TestClient) -> None:
    signup(site)
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(site)}
    fields = {"name": "ci", "password": PASSWORD}
    made = site.post("/account/tokens", data=fields, headers=headers).json()
    assert made["username"] == "ada" and len(made["new_token"]) >= 43
    refused = site.post("/account/tokens", data=fields | {"name": ""}, headers=headers)
    assert refused.status_code == 400
    assert refused.json() == {"error": "a token name is 1 to 64 characters long", "field": "name"}


def test_an_admin_bans_and_unbans_a_user(store: Store, site: TestClient, sign_in) -> None:
    sign_up(store, "bob", PASSWORD)
    bob = TestClient(site.app)
    login(bob, "bob")
    token = token_in(post_form(bob, "/account/tokens", name="script", password=PASSWORD))
    sign_in(site, "root", is_admin=True)
    banned = post_form(site, "/admin/users/Bob/ban")
    assert banned.status_code == 303
    assert signed_in_as(bob) is None
    assert bob.get("/account.json").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert TestClient(site.app).get("/account.json", headers=bearer).status_code == 401
    assert login(TestClient(site.app), "bob").status_code == 403
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(site)}
    lifted = site.post("/admin/users/bob/unban", headers=headers)
    assert lifted.json() == {"username": "bob", "is_admin": False, "banned": False}
    assert signed_in_as(bob) == "bob"


def test_only_admins_ban_and_not_themselves(store: Store, site: TestClient, sign_in) -> None:
    sign_up(store, "bob", PASSWORD)
    sign_in(site, "ada")
    assert post_form(site, "/admin/users/bob/ban").status_code == 403
    admin = TestClient(site.app)
    sign_in(admin, "root", is_admin=True)
    assert post_form(admin, "/admin/users/root/ban").status_code == 400
    missing = post_form(admin, "/admin/users/nobody/ban")
    assert missing.status_code == 404 and "no user named nobody" in missing.text
    assert log_in(store, "bob", PASSWORD, None).user.username == "bob"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def test_making_a_token_asks_for_the_password_limited_like_log_in(site: TestClient) -> None:
    signup(site)
    for _ in range(5):
        wrong = post_form(site, "/account/tokens", name="stolen", password="a wrong guess")
        assert wrong.status_code == 400 and "the password is wrong" in wrong.text
    limited = post_form(site, "/account/tokens", name="stolen", password=PASSWORD)
    assert limited.status_code == 429 and "retry-after" in limited.headers
    assert site.get("/account.json").json()["tokens"] == []


def test_tokens_are_listed_and_revoked_on_the_account_page(site: TestClient) -> None:
    signup(site)
    laptop = token_in(post_form(site, "/account/tokens", name="laptop", password=PASSWORD))
    ci = token_in(post_form(site, "/account/tokens", name="ci", password=PASSWORD))
    twice = post_form(site, "/account/tokens", name="ci", password=PASSWORD)
    assert twice.status_code == 400 and "you have a token named ci already" in twice.text
    page = site.get("/account").text
    assert page.count('action="/account/tokens/revoke"') == 2
    assert '<input type="hidden" name="name" value="laptop">' in page
    revoked = post_form(site, "/account/tokens/revoke", name="laptop")
    assert revoked.status_code == 200 and "Token laptop revoked" in revoked.text
    script = TestClient(site.app)
    assert script.get("/account.json", headers=bearer(laptop)).status_code == 401
    names = script.get("/account.json", headers=bearer(ci)).json()["tokens"]
    assert [t["name"] for t in names] == ["ci"]
    again = post_form(site, "/account/tokens/revoke", name="laptop")
    assert again.status_code == 400 and "no token named laptop" in again.text


def test_csrf_is_skipped_only_for_a_valid_api_token(site: TestClient) -> None:
    signup(site)
    token = token_in(post_form(site, "/account/tokens", name="ci", password=PASSWORD))
    for junk in ("nope", "x" * 43):  # any bearer used to skip the check, with the cookie
        forged = site.post("/account/tokens/revoke", data={"name": "ci"}, headers=bearer(junk))
        assert forged.status_code == 403, junk
    script = TestClient(site.app)  # a script: no cookies, no CSRF token, a valid API token
    revoked = script.post("/account/tokens/revoke", data={"name": "ci"}, headers=bearer(token))
    assert revoked.status_code == 200


def test_a_csrf_token_works_only_for_its_own_session(site: TestClient) -> None:
    signup(site)
    other = TestClient(site.app)
    login(other)
    mine, theirs = csrf(site), csrf(other)
    assert mine != theirs and mine != site.cookies.get("dp_csrf")
    stolen = site.post("/logout", data={"csrf_token": theirs}, follow_redirects=False)
    assert stolen.status_code == 403
    anonymous = TestClient(site.app)
    cookie_token = csrf(anonymous)  # an anonymous form's token does not do for a session
    site.cookies.set("dp_csrf", anonymous.cookies["dp_csrf"])
    replayed = site.post("/logout", data={"csrf_token": cookie_token}, follow_redirects=False)
    assert replayed.status_code == 403 and signed_in_as(site) == "ada"
    assert (
        site.post("/logout", data={"csrf_token": mine}, follow_redirects=False).status_code == 303
    )
