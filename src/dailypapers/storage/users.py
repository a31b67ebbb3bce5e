"""Users, their sessions and API tokens, and failed logins; hashing is the caller's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from dailypapers.models import User
from dailypapers.storage.schema import api_tokens, login_failures, sessions, users


def _user(row: object) -> User:
    return User(
        id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        is_admin=bool(row.is_admin),  # type: ignore[attr-defined]
        banned=bool(row.banned),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
    )


def create_user(
    connection: Connection, username: str, password_hash: str, now: datetime, is_admin: bool
) -> User:
    """Raises sqlalchemy's IntegrityError when the name is taken."""
    values = {
        "username": username,
        "password_hash": password_hash,
        "is_admin": is_admin,
        "created_at": now,
    }
    user_id = connection.execute(insert(users).values(values).returning(users.c.id)).scalar_one()
    return User(user_id, username, is_admin, False, now)


def user_by_name(connection: Connection, username: str) -> tuple[User, str] | None:
    """The user and their password hash."""
    row = connection.execute(select(users).where(users.c.username == username)).one_or_none()
    return (_user(row), row.password_hash) if row else None


def user_by_id(connection: Connection, user_id: int) -> User | None:
    row = connection.execute(select(users).where(users.c.id == user_id)).one_or_none()
    return _user(row) if row else None


def list_users(connection: Connection) -> list[User]:
    return [_user(row) for row in connection.execute(select(users).order_by(users.c.id))]


def update_user(connection: Connection, user_id: int, **values: object) -> None:
    """Set is_admin, banned or password_hash."""
    connection.execute(update(users).where(users.c.id == user_id).values(**values))


def add_session(
    connection: Connection, token_hash: str, user_id: int, now: datetime, expires: datetime
) -> None:
    values = {"token_hash": token_hash, "user_id": user_id, "created_at": now}
    connection.execute(insert(sessions).values(expires_at=expires, **values))


def session_user(connection: Connection, token_hash: str, now: datetime) -> User | None:
    query = (
        select(users)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
    )
    row = connection.execute(query).one_or_none()
    return _user(row) if row else None


def end_session(connection: Connection, token_hash: str) -> None:
    connection.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def end_sessions(connection: Connection, user_id: int, keep: str | None = None) -> None:
    """Log a user out everywhere (but the session `keep`), e.g. after a password change."""
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep:
        query = query.where(sessions.c.token_hash != keep)
    connection.execute(query)


def add_api_token(
    connection: Connection, token_hash: str, user_id: int, name: str, now: datetime
) -> None:
    values = {"token_hash": token_hash, "user_id": user_id, "name": name, "created_at": now}
    connection.execute(insert(api_tokens).values(values))


def api_tokens_of(connection: Connection, user_id: int) -> list[tuple[str, datetime]]:
    """(name, created_at) of a user's API tokens, oldest first; the tokens themselves are gone."""
    query = (
        select(api_tokens.c.name, api_tokens.c.created_at)
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.created_at, api_tokens.c.name)
    )
    return [(row.name, row.created_at) for row in connection.execute(query)]


def token_user(connection: Connection, token_hash: str) -> User | None:
    query = (
        select(users)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == token_hash)
    )
    row = connection.execute(query).one_or_none()
    return _user(row) if row else None


def record_login_failure(connection: Connection, key: str, now: datetime) -> None:
    connection.execute(insert(login_failures).values(key=key, at=now))


def login_failures_since(connection: Connection, key: str, since: datetime) -> int:
    query = select(func.count()).where(login_failures.c.key == key, login_failures.c.at > since)
    return connection.scalar(query) or 0


def forget_login_failures(connection: Connection, key: str) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.key == key))
