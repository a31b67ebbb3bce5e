"""Accounts as a service: hashing, name and password rules, the log-in rate limit, sessions,
password changes, API tokens, admins and bans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from dailypapers.accounts import (
    HASHER,
    AccountError,
    BadCredentials,
    Banned,
    TooManyAttempts,
    change_password,
    create_api_token,
    log_in,
    log_out,
    set_admin,
    set_banned,
    sign_up,
    token_hash,
)
from dailypapers.storage import Store
from dailypapers.storage.users import (
    api_tokens_of,
    create_user,
    session_user,
    token_user,
    user_by_name,
)

PASSWORD = "correct horse battery"
HOME = "192.0.2.1"


def stored_hash(store: Store, username: str) -> str:
    with store.read() as connection:
        found = user_by_name(connection, username)
    assert found is not None
    return found[1]


def session_owner(store: Store, session: str, now: datetime | None = None) -> str | None:
    with store.read() as connection:
        user = session_user(connection, token_hash(session), now or datetime.now(UTC))
    return user.username if user else None


def test_passwords_are_stored_as_argon2id_hashes(store: Store) -> None:
    user = sign_up(store, "Ada", PASSWORD)
    assert (user.username, user.is_admin, user.banned) == ("ada", False, False)
    password_hash = stored_hash(store, "ada")
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash
    assert HASHER.verify(password_hash, PASSWORD)


def test_log_in_with_the_right_password_in_any_case(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    login = log_in(store, "ADA", PASSWORD, HOME)
    assert login.user.username == "ada"
    assert len(login.session) >= 43  # token_urlsafe(32)
    assert session_owner(store, login.session) == "ada"
    with pytest.raises(BadCredentials, match="^wrong username or password$"):
        log_in(store, "ada", PASSWORD.upper(), HOME)
    with pytest.raises(BadCredentials, match="^wrong username or password$"):
        log_in(store, "nobody", PASSWORD, HOME)


def test_a_hash_with_old_parameters_is_redone_at_log_in(store: Store) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with store.transaction() as connection:
        create_user(connection, "ada", weak, datetime.now(UTC), False)
    log_in(store, "ada", PASSWORD, HOME)
    renewed = stored_hash(store, "ada")
    assert renewed != weak and not HASHER.check_needs_rehash(renewed)
    assert log_in(store, "ada", PASSWORD, HOME).user.username == "ada"


@pytest.mark.parametrize("name", ["ab", "a" * 33, "ada lovelace", "adä", "ada/1", "", "ada@x"])
def test_usernames_outside_the_rules_are_refused(store: Store, name: str) -> None:
    with pytest.raises(AccountError, match="^a username is 3 to 32 letters") as refused:
        sign_up(store, name, PASSWORD)
    assert refused.value.field == "username"


@pytest.mark.parametrize("name", ["abc", "a" * 32, "Ada.Love-lace_1"])
def test_usernames_inside_the_rules_are_kept_lower_cased(store: Store, name: str) -> None:
    assert sign_up(store, name, PASSWORD).username == name.lower()


def test_a_name_is_taken_whatever_its_case(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    with pytest.raises(AccountError, match="^the username ada is taken$"):
        sign_up(store, "ADA", "another password")


@pytest.mark.parametrize(("length", "allowed"), [(7, False), (8, True), (256, True), (257, False)])
def test_password_lengths(store: Store, length: int, allowed: bool) -> None:
    if allowed:
        sign_up(store, "ada", "p" * length)
        assert log_in(store, "ada", "p" * length, HOME).user.username == "ada"
    else:
        with pytest.raises(AccountError, match="^a password is 8 to 256 characters long$"):
            sign_up(store, "ada", "p" * length)


def fail_to_log_in(store: Store, username: str, client: str, times: int, now: datetime) -> None:
    for _ in range(times):
        with pytest.raises(BadCredentials):
            log_in(store, username, "wrong password", client, now)


def test_five_failures_for_a_username_lock_it_for_fifteen_minutes(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    start = datetime.now(UTC)
    fail_to_log_in(store, "ada", HOME, 5, start)
    with pytest.raises(TooManyAttempts, match="^too many failed log-ins: try again in 15 minutes$"):
        log_in(store, "ada", PASSWORD, "198.51.100.7", start + timedelta(minutes=14))
    later = start + timedelta(minutes=16)
    assert log_in(store, "ada", PASSWORD, HOME, later).user.username == "ada"


def test_five_failures_from_an_address_lock_the_address(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    for name in ("bob", "cy", "dee", "eve", "fay"):
        fail_to_log_in(store, name, HOME, 1, now)
    with pytest.raises(TooManyAttempts):
        log_in(store, "ada", PASSWORD, HOME, now)
    assert log_in(store, "ada", PASSWORD, "198.51.100.7", now).user.username == "ada"


def test_a_successful_log_in_clears_the_usernames_failures(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    fail_to_log_in(store, "ada", "198.51.100.7", 4, now)
    log_in(store, "ada", PASSWORD, HOME, now)
    fail_to_log_in(store, "ada", "203.0.113.9", 4, now)
    assert log_in(store, "ada", PASSWORD, HOME, now).user.username == "ada"


def test_sessions_last_thirty_days_and_end_at_log_out(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    session = log_in(store, "ada", PASSWORD, HOME, now).session
    assert session_owner(store, session, now + timedelta(days=29, hours=23)) == "ada"
    assert session_owner(store, session, now + timedelta(days=30, minutes=1)) is None
    log_out(store, session)
    assert session_owner(store, session, now) is None


def test_a_password_change_ends_the_other_sessions(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    here = log_in(store, "ada", PASSWORD, HOME).session
    elsewhere = log_in(store, "ada", PASSWORD, "198.51.100.7").session
    change_password(store, user, PASSWORD, "a brand new secret", keep_session=here)
    assert session_owner(store, here) == "ada"
    assert session_owner(store, elsewhere) is None
    with pytest.raises(BadCredentials):
        log_in(store, "ada", PASSWORD, HOME)
    assert log_in(store, "ada", "a brand new secret", HOME).user.username == "ada"


def test_a_password_change_needs_the_current_password(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    with pytest.raises(AccountError, match="^the current password is wrong$") as refused:
        change_password(store, user, "not my password", "a brand new secret")
    assert refused.value.field == "old_password"
    with pytest.raises(AccountError, match="^a password is 8 to 256") as refused:
        change_password(store, user, PASSWORD, "short")
    assert refused.value.field == "new_password"
    assert log_in(store, "ada", PASSWORD, HOME).user.username == "ada"


def test_guessing_the_current_password_is_rate_limited_too(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    for _ in range(5):
        with pytest.raises(AccountError, match="current password is wrong"):
            change_password(store, user, "a wrong guess", "a brand new secret", now=now)
    with pytest.raises(TooManyAttempts):
        change_password(store, user, PASSWORD, "a brand new secret", now=now)


def test_api_tokens_are_shown_once_and_stored_hashed(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    token = create_api_token(store, user, "  laptop script ")
    other = create_api_token(store, user, "ci")
    assert token != other and len(token) >= 43
    with store.read() as connection:
        assert token_user(connection, token_hash(token)).username == "ada"
        assert token_user(connection, token) is None  # the token itself is not stored
        assert [name for name, _ in api_tokens_of(connection, user.id)] == ["laptop script", "ci"]
    with pytest.raises(AccountError, match="^a token name is 1 to 64 characters long$"):
        create_api_token(store, user, "   ")


def test_admins_are_made_and_unmade_by_name(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    assert set_admin(store, "ADA").is_admin
    assert not set_admin(store, "ada", False).is_admin
    with pytest.raises(AccountError, match="^no user named bob$"):
        set_admin(store, "bob")


def test_a_banned_user_cannot_log_in_until_unbanned(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    assert set_banned(store, "ada").banned
    with pytest.raises(Banned, match="^this account is banned$"):
        log_in(store, "ada", PASSWORD, HOME)
    with pytest.raises(BadCredentials):  # the ban is told only to who knows the password
        log_in(store, "ada", "wrong password", HOME)
    assert not set_banned(store, "ada", False).banned
    assert log_in(store, "ada", PASSWORD, HOME).user.username == "ada"
