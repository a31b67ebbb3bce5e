"""Users, their sessions and API tokens, their addresses, and log-in attempts; hashing is
the caller's."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, delete, insert, select, update

from dailypapers.models import User
from dailypapers.storage.schema import api_tokens, login_attempts, sessions, users
from dailypapers.storage.upserts import insert_for


def _user(row: object) -> User:
    return User(
        id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        is_admin=bool(row.is_admin),  # type: ignore[attr-defined]
        banned=bool(row.banned),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        private_upvotes=bool(row.private_upvotes),  # type: ignore[attr-defined]
        reply_mails=bool(row.reply_mails),  # type: ignore[attr-defined]
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


def users_with_address(connection: Connection, email: str) -> list[tuple[User, str]]:
    """The users whose confirmed address is `email`, with their password hashes."""
    query = select(users).where(users.c.email == email, users.c.email_confirmed_at.is_not(None))
    return [(_user(row), row.password_hash) for row in connection.execute(query)]


def account_address(connection: Connection, user_id: int) -> tuple[str | None, bool]:
    """A user's address, and whether its owner confirmed it."""
    row = connection.execute(
        select(users.c.email, users.c.email_confirmed_at).where(users.c.id == user_id)
    ).one()
    return row.email, row.email_confirmed_at is not None


def reset_sent_at(connection: Connection, user_id: int) -> datetime | None:
    return connection.scalar(select(users.c.reset_sent_at).where(users.c.id == user_id))


def update_user(connection: Connection, user_id: int, **values: object) -> None:
    """Set is_admin, banned, password_hash, email, email_confirmed_at, reset_sent_at,
    private_upvotes or reply_mails."""
    connection.execute(update(users).where(users.c.id == user_id).values(**values))


def replace_password_hash(connection: Connection, user_id: int, old: str, new: str) -> bool:
    """Set the password hash if it is still `old` (one of two concurrent changes wins)."""
    query = update(users).where(users.c.id == user_id, users.c.password_hash == old)
    return connection.execute(query.values(password_hash=new)).rowcount == 1


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


def delete_api_tokens(connection: Connection, user_id: int, name: str | None = None) -> int:
    """Revoke a user's tokens of that name (every one of them without a name); how many."""
    query = delete(api_tokens).where(api_tokens.c.user_id == user_id)
    if name is not None:
        query = query.where(api_tokens.c.name == name)
    return connection.execute(query).rowcount


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


def count_attempt(
    connection: Connection, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Count one more attempt for `key`: the attempts in its window and when the window
    started (now, when the last one had ended). One statement, so that concurrent callers
    are counted one after another (the row is locked until the transaction ends)."""
    table = login_attempts
    ended = table.c.started_at <= now - window
    statement = insert_for(connection.dialect.name, table).values(
        key=key, started_at=now, attempts=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "attempts": case((ended, 1), else_=table.c.attempts + 1),
            "started_at": case((ended, now), else_=table.c.started_at),
        },
    ).returning(table.c.attempts, table.c.started_at)
    row = connection.execute(statement).one()
    return row.attempts, row.started_at


def uncount_attempt(connection: Connection, key: str) -> None:
    """Take back one attempt of `key` (it turned out to be its owner's)."""
    connection.execute(
        update(login_attempts)
        .where(login_attempts.c.key == key, login_attempts.c.attempts > 0)
        .values(attempts=login_attempts.c.attempts - 1)
    )


def forget_attempts(connection: Connection, key: str) -> None:
    connection.execute(delete(login_attempts).where(login_attempts.c.key == key))


def forget_old_attempts(connection: Connection, before: datetime) -> None:
    """Delete the rows of windows that ended; on PostgreSQL skipping rows another transaction
    holds, so that this never waits for one (nor deadlocks with one doing the same)."""
    ended = (
        select(login_attempts.c.key)
        .where(login_attempts.c.started_at <= before)
        .with_for_update(skip_locked=True)
    )
    connection.execute(delete(login_attempts).where(login_attempts.c.key.in_(ended)))
