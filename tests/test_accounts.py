"""Accounts as a service: hashing, name and password rules, the log-in rate limit, sessions,
password changes, API tokens, admins and bans."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from dailypapers.accounts import (
    HASHER,
    HASHING,
    AccountError,
    BadCredentials,
    Banned,
    TooBusy,
    TooManyAttempts,
    change_password,
    create_api_token,
    log_in,
    log_out,
    revoke_api_token,
    set_admin,
    set_banned,
    set_password,
    sign_up,
    token_hash,
)
from dailypapers.storage import Store
from dailypapers.storage.schema import login_attempts
from dailypapers.storage.users import (
    api_tokens_of,
    create_user,
    session_user,
    token_user,
    user_by_name,
)

PASSWORD = "correct horse battery"
HOME = "192.0.2.1"
ELSEWHERE = "198.51.100.7"


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


def test_five_failures_lock_that_username_from_that_address_only(store: Store) -> None:
    """Someone elsewhere guessing ada's password cannot lock ada out."""
    sign_up(store, "ada", PASSWORD)
    start = datetime.now(UTC)
    fail_to_log_in(store, "ada", ELSEWHERE, 5, start)
    with pytest.raises(TooManyAttempts, match="^too many failed log-ins: try again in 15 minutes$"):
        log_in(store, "ada", PASSWORD, ELSEWHERE, start)
    with pytest.raises(TooManyAttempts, match="try again in 2 minutes$") as limited:
        log_in(store, "ada", PASSWORD, ELSEWHERE, start + timedelta(minutes=13, seconds=30))
    assert limited.value.retry_after == 90
    assert log_in(store, "ada", PASSWORD, HOME, start).user.username == "ada"
    later = start + timedelta(minutes=15, seconds=1)
    assert log_in(store, "ada", PASSWORD, ELSEWHERE, later).user.username == "ada"


def test_twenty_failures_from_an_address_lock_the_address(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    for name in ("bob", "cy", "dee", "eve"):
        fail_to_log_in(store, name, ELSEWHERE, 5, now)
    with pytest.raises(TooManyAttempts):
        log_in(store, "ada", PASSWORD, ELSEWHERE, now)
    assert log_in(store, "ada", PASSWORD, HOME, now).user.username == "ada"


def test_a_successful_log_in_forgets_its_usernames_failures_from_there(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    fail_to_log_in(store, "ada", HOME, 4, now)
    log_in(store, "ada", PASSWORD, HOME, now)
    fail_to_log_in(store, "ada", HOME, 4, now)
    assert log_in(store, "ada", PASSWORD, HOME, now).user.username == "ada"
    assert attempts_counted(store, "addr:" + HOME) == 8  # the right ones were taken back


def attempts_counted(store: Store, key: str) -> int:
    with store.read() as connection:
        found = connection.scalar(
            select(login_attempts.c.attempts).where(login_attempts.c.key == key)
        )
    return found or 0


def at_once(count: int, attempt: Callable[[int], object]) -> list[object]:
    """Run `attempt(0)` … `attempt(count - 1)` in threads started together; what each
    returned or raised."""
    start = threading.Barrier(count)

    def run(number: int) -> object:
        start.wait()
        try:
            return attempt(number)
        except AccountError as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_thirty_wrong_passwords_at_once_get_five_checks(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    answers = at_once(30, lambda _: log_in(store, "ada", "wrong password", HOME, now))
    checked = [a for a in answers if isinstance(a, BadCredentials)]
    limited = [a for a in answers if isinstance(a, TooManyAttempts)]
    assert (len(checked), len(limited)) == (5, 25)
    assert attempts_counted(store, f"user:ada@{HOME}") == 5
    with pytest.raises(TooManyAttempts):
        log_in(store, "ada", PASSWORD, HOME, now)


def test_at_most_two_passwords_are_hashed_at_once_and_a_burst_is_refused(store: Store) -> None:
    """40 failed log-ins took 3 GiB (64 MiB of argon2 each): now two hash at once, eight
    wait, and the rest are refused before hashing, and not counted against anyone."""
    sign_up(store, "ada", PASSWORD)
    HASHING.most_holding = 0
    now = datetime.now(UTC)
    answers = at_once(30, lambda n: log_in(store, "ada", "wrong password", f"198.51.100.{n}", now))
    refused = [n for n, a in enumerate(answers) if isinstance(a, TooBusy)]
    checked = [n for n, a in enumerate(answers) if isinstance(a, BadCredentials)]
    assert HASHING.most_holding == HASHING.at_once == 2
    # How many are refused depends on how closely the threads arrive (each first counts its
    # attempt in a write transaction); that some are, and none hashes past the bound, does not.
    assert refused and len(checked) >= HASHING.at_once
    assert len(refused) + len(checked) == 30
    assert {attempts_counted(store, f"addr:198.51.100.{n}") for n in refused} == {0}
    assert {attempts_counted(store, f"addr:198.51.100.{n}") for n in checked} == {1}


def timed_failure(store: Store, username: str, client: str) -> float:
    started = time.perf_counter()
    with pytest.raises(BadCredentials):
        log_in(store, username, "wrong password", client)
    return time.perf_counter() - started


def test_an_unknown_username_takes_as_long_as_a_known_one(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    timed_failure(store, "warm-up", "203.0.113.1")  # the unknown users' hash is made once
    known = sorted(timed_failure(store, "ada", f"203.0.113.{n}") for n in range(2, 5))[1]
    unknown = sorted(timed_failure(store, f"nobody{n}", f"203.0.113.{n}") for n in range(5, 8))[1]
    assert known / 3 < unknown < known * 3, (known, unknown)  # it was 215-420 ms vs 6-19 ms


def test_sessions_last_thirty_days_and_end_at_log_out(store: Store) -> None:
    sign_up(store, "ada", PASSWORD)
    now = datetime.now(UTC)
    session = log_in(store, "ada", PASSWORD, HOME, now).session
    assert session_owner(store, session, now + timedelta(days=29, hours=23)) == "ada"
    assert session_owner(store, session, now + timedelta(days=30, minutes=1)) is None
    log_out(store, session)
    assert session_owner(store, session, now) is None


def token_owner(store: Store, token: str) -> str | None:
    with store.read() as connection:
        user = token_user(connection, token_hash(token))
    return user.username if user else None


def test_a_password_change_ends_the_other_sessions_and_revokes_tokens(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    here = log_in(store, "ada", PASSWORD, HOME).session
    elsewhere = log_in(store, "ada", PASSWORD, "198.51.100.7").session
    token = create_api_token(store, user, "script")
    change_password(store, user, PASSWORD, "a brand new secret", keep_session=here)
    assert session_owner(store, here) == "ada"
    assert session_owner(store, elsewhere) is None
    assert token_owner(store, token) is None  # whoever had the old password may have made it
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


def test_token_names_are_unique_per_user_and_revoked_by_name(store: Store) -> None:
    ada, bob = sign_up(store, "ada", PASSWORD), sign_up(store, "bob", PASSWORD)
    laptop, ci = create_api_token(store, ada, "laptop"), create_api_token(store, ada, "ci")
    bobs = create_api_token(store, bob, "laptop")  # another user may use the name
    with pytest.raises(AccountError, match="^you have a token named laptop already") as taken:
        create_api_token(store, ada, " laptop")
    assert taken.value.field == "name"
    revoke_api_token(store, ada, " laptop ")
    assert [token_owner(store, t) for t in (laptop, ci, bobs)] == [None, "ada", "bob"]
    with pytest.raises(AccountError, match="^no token named laptop$"):
        revoke_api_token(store, ada, "laptop")
    assert token_owner(store, create_api_token(store, ada, "laptop")) == "ada"


def test_an_admin_sets_a_password_ending_sessions_and_revoking_tokens(store: Store) -> None:
    user = sign_up(store, "ada", PASSWORD)
    session = log_in(store, "ada", PASSWORD, HOME).session
    token = create_api_token(store, user, "script")
    set_password(store, "ADA", "a brand new secret")
    assert (session_owner(store, session), token_owner(store, token)) == (None, None)
    assert log_in(store, "ada", "a brand new secret", HOME).user.username == "ada"
    with pytest.raises(AccountError, match="^no user named bob$"):
        set_password(store, "bob", "a brand new secret")
    with pytest.raises(AccountError, match="^a password is 8 to 256"):
        set_password(store, "ada", "short")


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
