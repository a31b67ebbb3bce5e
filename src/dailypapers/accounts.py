"""Accounts: argon2 passwords, sign-up, log-in with a rate limit, sessions, API tokens,
admins and bans. The site and the CLI both go through here; no web code."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dailypapers.models import User
from dailypapers.slots import Slots, SlotsFull
from dailypapers.storage import Store
from dailypapers.storage.users import (
    add_api_token,
    add_session,
    api_tokens_of,
    count_attempt,
    create_user,
    delete_api_tokens,
    end_session,
    end_sessions,
    forget_attempts,
    forget_old_attempts,
    replace_password_hash,
    uncount_attempt,
    update_user,
    user_by_name,
)

SESSION_LIFETIME = timedelta(days=30)
ATTEMPT_WINDOW = timedelta(minutes=15)
# Password checks per window, counted before checking: for one username from one address,
# and for one address whatever the username. No limit is per username alone, so nobody
# elsewhere can lock an account's owner out.
ATTEMPTS_PER_ACCOUNT_AND_ADDRESS = 5
ATTEMPTS_PER_ADDRESS = 20
USERNAME_RULE = re.compile(r"[A-Za-z0-9_.-]{3,32}")
PASSWORD_LENGTHS = range(8, 257)
TOKEN_NAME_LENGTHS = range(1, 65)
HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# argon2 holds 64 MiB per hash or check: two at once, eight waiting, the rest refused.
HASHING = Slots(at_once=2, queue=8, wait_seconds=10.0)
WRONG_PASSWORD = {
    "password": "the password is wrong",
    "old_password": "the current password is wrong",
}
T = TypeVar("T")


class AccountError(Exception):
    """A refusal with a one-line message for the user; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadCredentials(AccountError):
    """Wrong username or password (the message never says which)."""


class TooManyAttempts(AccountError):
    """Too many failed log-ins for this username from this address, or from this address, in
    the window; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooBusy(AccountError):
    """Too many passwords are being hashed or checked at once; try again in a moment."""

    retry_after = 1


class Banned(AccountError):
    """The account exists and the password is right, but an admin banned it."""


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    session: str  # the cookie's value; only its hash is stored


def token_hash(token: str) -> str:
    """Session and API tokens are stored hashed: a leaked database logs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(UTC)


def check_username(username: str) -> str:
    """The username as stored: lower-cased, so that names are unique regardless of case."""
    if not USERNAME_RULE.fullmatch(username):
        raise AccountError(
            "a username is 3 to 32 letters, digits, '_', '-' or '.'", field="username"
        )
    return username.lower()


def check_password(password: str, field: str = "password") -> None:
    if len(password) not in PASSWORD_LENGTHS:
        raise AccountError("a password is 8 to 256 characters long", field=field)


def _hashing(work: Callable[[], T]) -> T:
    """Run argon2 work in one of HASHING's slots: a burst of log-ins cannot take the memory."""
    try:
        with HASHING.held():
            return work()
    except SlotsFull:
        raise TooBusy("too many log-ins at once: try again in a moment") from None


def hash_password(password: str) -> str:
    return _hashing(lambda: HASHER.hash(password))


@cache
def _unknown_user_hash() -> str:
    """What an unknown username's password is checked against: the same work as a real one,
    so the answer's timing does not tell which usernames exist."""
    return HASHER.hash(secrets.token_urlsafe(16))


def _verified(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            matches = HASHER.verify(password_hash or _unknown_user_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and password_hash is not None

    return _hashing(check)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The keys one password check counts against, with their limits, in one fixed order
    (so that two transactions locking both rows on PostgreSQL never deadlock)."""

    address_key: str
    account_key: str

    @classmethod
    def of(cls, username: str, client: str | None) -> Attempt:
        address = (client or "local")[:64]
        return cls(f"addr:{address}", f"user:{username[:64]}@{address}")

    def limits(self) -> list[tuple[str, int]]:
        return [
            (self.address_key, ATTEMPTS_PER_ADDRESS),
            (self.account_key, ATTEMPTS_PER_ACCOUNT_AND_ADDRESS),
        ]


def _admit(store: Store, attempt: Attempt, now: datetime) -> None:
    """Count the attempt before the password is checked, in one write transaction: concurrent
    attempts are counted one after another, so no more than the limit are ever checked. One
    over a limit is refused, and the refusal rolls its counting back."""
    with store.transaction() as connection:
        for key, limit in attempt.limits():
            attempts, started = count_attempt(connection, key, now, ATTEMPT_WINDOW)
            if attempts > limit:
                wait = aware(started) + ATTEMPT_WINDOW - now
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                raise TooManyAttempts(
                    f"too many failed log-ins: try again in {minutes} minutes",
                    retry_after=max(1, math.ceil(wait.total_seconds())),
                )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def _uncount(connection: Connection, attempt: Attempt) -> None:
    for key, _ in attempt.limits():
        uncount_attempt(connection, key)


def _checked(
    store: Store, username: str, password: str, attempt: Attempt, now: datetime
) -> User | None:
    """The user if the password is theirs, checked only once the attempt was admitted.

    A right password forgets this username's attempts from this address and takes this
    attempt back from the address's count. Checks run outside any transaction: argon2 is
    slow on purpose, and SQLite has one writer.
    """
    _admit(store, attempt, now)
    with store.read() as connection:
        found = user_by_name(connection, username)
    try:
        right = _verified(found[1] if found else None, password)
    except TooBusy:
        with store.transaction() as connection:  # not checked: not counted
            _uncount(connection, attempt)
        raise
    if not right or found is None:
        return None
    user, password_hash = found
    renewed = hash_password(password) if HASHER.check_needs_rehash(password_hash) else None
    with store.transaction() as connection:
        uncount_attempt(connection, attempt.address_key)
        forget_attempts(connection, attempt.account_key)
        if renewed:  # the hasher's parameters changed since this one was made
            update_user(connection, user.id, password_hash=renewed)
        forget_old_attempts(connection, now - ATTEMPT_WINDOW)
    return user


def _start_session(connection: Connection, user_id: int, now: datetime) -> str:
    session = new_token()
    add_session(connection, token_hash(session), user_id, now, now + SESSION_LIFETIME)
    return session


def sign_up(store: Store, username: str, password: str, *, is_admin: bool = False) -> User:
    name = check_username(username)
    check_password(password)
    password_hash = hash_password(password)
    try:
        with store.transaction() as connection:
            return create_user(connection, name, password_hash, _now(), is_admin)
    except IntegrityError:
        raise AccountError(f"the username {name} is taken", field="username") from None


def sign_up_and_log_in(store: Store, username: str, password: str) -> Login:
    user = sign_up(store, username, password)
    with store.transaction() as connection:
        return Login(user, _start_session(connection, user.id, _now()))


def log_in(
    store: Store, username: str, password: str, client: str | None, now: datetime | None = None
) -> Login:
    """A new session for the right password; attempts are counted and limited."""
    now = now or _now()
    name = username.strip().lower()
    user = _checked(store, name, password, Attempt.of(name, client), now)
    if user is None:
        raise BadCredentials("wrong username or password")
    if user.banned:
        raise Banned("this account is banned")
    with store.transaction() as connection:
        return Login(user, _start_session(connection, user.id, now))


def log_out(store: Store, session: str) -> None:
    with store.transaction() as connection:
        end_session(connection, token_hash(session))


def change_password(
    store: Store,
    user: User,
    old_password: str,
    new_password: str,
    keep_session: str | None = None,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """Check the old password (limited like log-in), then end every other session and revoke
    every API token: whoever had the old password may have made one."""
    check_password(new_password, field="new_password")
    confirm_password(store, user, old_password, client, now, field="old_password")
    replace_password(store, user, new_password, keep_session)


def set_password(store: Store, username: str, new_password: str) -> User:
    """An admin's reset: a new password, every session ended and every API token revoked."""
    check_password(new_password)
    with store.read() as connection:
        user = find_user(connection, username)
    replace_password(store, user, new_password)
    return user


def replace_password(
    store: Store,
    user: User,
    new_password: str,
    keep_session: str | None = None,
    replacing: str | None = None,
) -> bool:
    """A new password; every session but `keep_session` ends, and every API token goes.
    With `replacing` (a hash), only if that is still the user's: False when it was not."""
    new_hash = hash_password(new_password)
    with store.transaction() as connection:
        if replacing is None:
            update_user(connection, user.id, password_hash=new_hash)
        elif not replace_password_hash(connection, user.id, replacing, new_hash):
            return False
        end_sessions(connection, user.id, keep=token_hash(keep_session) if keep_session else None)
        delete_api_tokens(connection, user.id)
    return True


def confirm_password(
    store: Store,
    user: User,
    password: str,
    client: str | None,
    now: datetime | None = None,
    field: str = "password",
) -> None:
    """A signed-in user types their password again before something a stolen session should
    not do alone (a new password, an API token, a new address); limited like log-in."""
    attempt = Attempt.of(user.username, client)
    if _checked(store, user.username, password, attempt, now or _now()) is None:
        raise AccountError(WRONG_PASSWORD[field], field=field)


def create_api_token(store: Store, user: User, name: str) -> str:
    """A new API token, returned once: only its hash is kept. Names are unique per user, so
    that revoking one by name revokes what its owner means."""
    label = name.strip()
    if len(label) not in TOKEN_NAME_LENGTHS:
        raise AccountError("a token name is 1 to 64 characters long", field="name")
    token = new_token()
    with store.transaction() as connection:
        if any(taken == label for taken, _ in api_tokens_of(connection, user.id)):
            message = f"you have a token named {label} already: revoke it or pick another name"
            raise AccountError(message, field="name")
        add_api_token(connection, token_hash(token), user.id, label, _now())
    return token


def revoke_api_token(store: Store, user: User, name: str) -> None:
    """Revoke the token of that name (every one, for names given twice before names were
    unique); refused when there is none."""
    with store.transaction() as connection:
        if not delete_api_tokens(connection, user.id, name.strip()):
            raise AccountError(f"no token named {name.strip()}", field="name")


def find_user(connection: Connection, username: str) -> User:
    found = user_by_name(connection, username.strip().lower())
    if found is None:
        raise AccountError(f"no user named {username}", field="username")
    return found[0]


def _set_flag(store: Store, username: str, **flag: bool) -> User:
    with store.transaction() as connection:
        user = find_user(connection, username)
        update_user(connection, user.id, **flag)
        return find_user(connection, username)


def set_admin(store: Store, username: str, is_admin: bool = True) -> User:
    return _set_flag(store, username, is_admin=is_admin)


def set_banned(store: Store, username: str, banned: bool = True) -> User:
    """A banned user counts as nobody: their sessions and tokens stop working."""
    return _set_flag(store, username, banned=banned)
