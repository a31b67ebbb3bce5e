"""Accounts: argon2 passwords, sign-up, log-in with a rate limit, sessions, API tokens,
admins and bans. The site and the CLI both go through here; no web code."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.users import (
    add_api_token,
    add_session,
    create_user,
    end_session,
    end_sessions,
    forget_login_failures,
    login_failures_since,
    record_login_failure,
    update_user,
    user_by_name,
)

SESSION_LIFETIME = timedelta(days=30)
MAX_LOGIN_FAILURES = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
USERNAME_RULE = re.compile(r"[A-Za-z0-9_.-]{3,32}")
PASSWORD_LENGTHS = range(8, 257)
TOKEN_NAME_LENGTHS = range(1, 65)
HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountError(Exception):
    """A refusal with a one-line message for the user; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadCredentials(AccountError):
    """Wrong username or password (the message never says which)."""


class TooManyAttempts(AccountError):
    """Too many failed log-ins for this username or client address in the window."""


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


def _verified(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _failure_keys(username: str, client: str | None) -> list[str]:
    """Failures count against the username tried and against the address trying it."""
    keys = [f"user:{username[:64]}"]
    return [*keys, f"addr:{client[:64]}"] if client else keys


def _password_user(
    store: Store, username: str, password: str, keys: list[str], now: datetime
) -> User | None:
    """The user if the password is theirs; refuses first when `keys` failed too often.

    Reads, then verifies outside any transaction: argon2 is slow on purpose, and SQLite
    has one writer.
    """
    with store.read() as connection:
        since = now - LOGIN_FAILURE_WINDOW
        failures = max(login_failures_since(connection, key, since) for key in keys)
        found = user_by_name(connection, username)
    if failures >= MAX_LOGIN_FAILURES:
        minutes = LOGIN_FAILURE_WINDOW.seconds // 60
        raise TooManyAttempts(f"too many failed log-ins: try again in {minutes} minutes")
    if found is None or not _verified(found[1], password):
        with store.transaction() as connection:
            for key in keys:
                record_login_failure(connection, key, now)
        return None
    user, password_hash = found
    if HASHER.check_needs_rehash(password_hash):  # parameters changed since it was hashed
        renewed = HASHER.hash(password)
        with store.transaction() as connection:
            update_user(connection, user.id, password_hash=renewed)
    return user


def _start_session(connection: Connection, user_id: int, now: datetime) -> str:
    session = new_token()
    add_session(connection, token_hash(session), user_id, now, now + SESSION_LIFETIME)
    return session


def sign_up(store: Store, username: str, password: str, *, is_admin: bool = False) -> User:
    name = check_username(username)
    check_password(password)
    password_hash = HASHER.hash(password)
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
    """A new session for the right password; failures are recorded and rate-limited."""
    now = now or _now()
    name = username.strip().lower()
    keys = _failure_keys(name, client)
    user = _password_user(store, name, password, keys, now)
    if user is None:
        raise BadCredentials("wrong username or password")
    if user.banned:
        raise Banned("this account is banned")
    with store.transaction() as connection:
        forget_login_failures(connection, keys[0])
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
    now: datetime | None = None,
) -> None:
    """Check the old password (rate-limited like log-in), then end every other session."""
    check_password(new_password, field="new_password")
    keys = _failure_keys(user.username, None)
    if _password_user(store, user.username, old_password, keys, now or _now()) is None:
        raise AccountError("the current password is wrong", field="old_password")
    new_hash = HASHER.hash(new_password)
    with store.transaction() as connection:
        update_user(connection, user.id, password_hash=new_hash)
        end_sessions(connection, user.id, keep=token_hash(keep_session) if keep_session else None)


def create_api_token(store: Store, user: User, name: str) -> str:
    """A new API token, returned once: only its hash is kept."""
    label = name.strip()
    if len(label) not in TOKEN_NAME_LENGTHS:
        raise AccountError("a token name is 1 to 64 characters long", field="name")
    token = new_token()
    with store.transaction() as connection:
        add_api_token(connection, token_hash(token), user.id, label, _now())
    return token


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
