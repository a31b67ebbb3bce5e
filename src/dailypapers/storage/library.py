"""A reader's library: tags of saved papers, the papers marked "not interested", and what
"for you" keeps per reader (its feed's secret, the model fitted from the library)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from dailypapers.storage.papers import as_utc
from dailypapers.storage.schema import for_you, library_items, library_tags, not_interested
from dailypapers.storage.upserts import insert_for
from dailypapers.storage.votes import id_chunks


@dataclass(frozen=True)
class Tag:
    name: str
    papers: int
    feed_secret: str  # the private feed's URL carries it


@dataclass(frozen=True)
class Saved:
    paper_id: str
    tags: tuple[str, ...]
    added_at: datetime  # when it first went into any of them


def tag_id(connection: Connection, user_id: int, name: str, now: datetime) -> int:
    """The reader's tag of that name, made on first use."""
    statement = insert_for(connection.dialect.name, library_tags).on_conflict_do_nothing()
    connection.execute(
        statement.values(
            user_id=user_id, name=name, feed_secret=secrets.token_urlsafe(24), created_at=now
        )
    )
    query = select(library_tags.c.id).where(
        library_tags.c.user_id == user_id, library_tags.c.name == name
    )
    return int(connection.execute(query).scalar_one())


def save_papers(
    connection: Connection, user_id: int, tag: str, paper_ids: Sequence[str], now: datetime
) -> int:
    """Put the papers into the tag (saving one twice keeps the first time); how many were
    not in it yet. A saved paper is no longer "not interested"."""
    if not paper_ids:
        return 0
    into = tag_id(connection, user_id, tag, now)
    before = _count(connection, into)
    statement = insert_for(connection.dialect.name, library_items).on_conflict_do_nothing()
    connection.execute(
        statement, [{"tag_id": into, "paper_id": p, "added_at": now} for p in paper_ids]
    )
    clear_not_interested(connection, user_id, paper_ids)
    return _count(connection, into) - before


def _count(connection: Connection, into: int) -> int:
    query = select(func.count()).select_from(library_items).where(library_items.c.tag_id == into)
    return int(connection.execute(query).scalar_one())


def unsave_paper(connection: Connection, user_id: int, tag: str | None, paper_id: str) -> None:
    """Take the paper out of the tag (None: out of every tag)."""
    tags = select(library_tags.c.id).where(library_tags.c.user_id == user_id)
    if tag is not None:
        tags = tags.where(library_tags.c.name == tag)
    connection.execute(
        delete(library_items).where(
            library_items.c.paper_id == paper_id, library_items.c.tag_id.in_(tags)
        )
    )


def reader_tags(connection: Connection, user_id: int) -> list[Tag]:
    """The reader's tags by name, with how many papers each holds."""
    query = (
        select(
            library_tags.c.name, library_tags.c.feed_secret, func.count(library_items.c.paper_id)
        )
        .outerjoin(library_items, library_items.c.tag_id == library_tags.c.id)
        .where(library_tags.c.user_id == user_id)
        .group_by(library_tags.c.id)
        .order_by(library_tags.c.name)
    )
    return [Tag(name, count, secret) for name, secret, count in connection.execute(query)]


def saved_papers(connection: Connection, user_id: int, tag: str | None = None) -> list[Saved]:
    """The reader's saved papers (in `tag`, or in any), newest saved first."""
    query = (
        select(library_items.c.paper_id, library_tags.c.name, library_items.c.added_at)
        .join(library_tags, library_tags.c.id == library_items.c.tag_id)
        .where(library_tags.c.user_id == user_id)
    )
    if tag is not None:
        query = query.where(library_tags.c.name == tag)
    tags: dict[str, list[str]] = {}
    first: dict[str, datetime] = {}
    for paper_id, name, stored_at in connection.execute(query):
        added_at = as_utc(stored_at) or stored_at  # SQLite gives it back without its zone
        tags.setdefault(paper_id, []).append(name)
        first[paper_id] = min(first.get(paper_id, added_at), added_at)
    ordered = sorted(first, key=lambda p: (first[p], p), reverse=True)
    return [Saved(p, tuple(sorted(tags[p])), first[p]) for p in ordered]


def tag_by_secret(connection: Connection, secret: str) -> tuple[int, str] | None:
    """The (user id, tag name) whose private feed `secret` opens."""
    query = select(library_tags.c.user_id, library_tags.c.name).where(
        library_tags.c.feed_secret == secret
    )
    row = connection.execute(query).first()
    return (int(row[0]), str(row[1])) if row else None


def mark_not_interested(connection: Connection, user_id: int, paper_id: str, now: datetime) -> None:
    """The paper leaves the reader's lists and their library, and counts as a negative."""
    unsave_paper(connection, user_id, None, paper_id)
    statement = insert_for(connection.dialect.name, not_interested).on_conflict_do_nothing()
    connection.execute(statement.values(user_id=user_id, paper_id=paper_id, marked_at=now))


def clear_not_interested(connection: Connection, user_id: int, paper_ids: Sequence[str]) -> None:
    for chunk in id_chunks(list(paper_ids)):
        connection.execute(
            delete(not_interested).where(
                not_interested.c.user_id == user_id, not_interested.c.paper_id.in_(chunk)
            )
        )


def not_interesting(connection: Connection, user_id: int) -> set[str]:
    query = select(not_interested.c.paper_id).where(not_interested.c.user_id == user_id)
    return set(connection.scalars(query))


def saved_tags(connection: Connection, user_id: int, ids: Sequence[str]) -> dict[str, list[str]]:
    """The reader's tags holding each of `ids` (those in none are left out)."""
    found: dict[str, list[str]] = {}
    for chunk in id_chunks(list(ids)):
        query = (
            select(library_items.c.paper_id, library_tags.c.name)
            .join(library_tags, library_tags.c.id == library_items.c.tag_id)
            .where(library_tags.c.user_id == user_id, library_items.c.paper_id.in_(chunk))
            .order_by(library_tags.c.name)
        )
        for paper_id, name in connection.execute(query):
            found.setdefault(paper_id, []).append(name)
    return found


def current_tag(connection: Connection, user_id: int) -> str | None:
    """The tag the reader saved into last (or made last): where a list's Save puts papers."""
    newest = func.max(func.coalesce(library_items.c.added_at, library_tags.c.created_at))
    query = (
        select(library_tags.c.name)
        .outerjoin(library_items, library_items.c.tag_id == library_tags.c.id)
        .where(library_tags.c.user_id == user_id)
        .group_by(library_tags.c.id)
        .order_by(newest.desc(), library_tags.c.id.desc())
        .limit(1)
    )
    return connection.scalar(query)


@dataclass(frozen=True)
class FittedModel:
    library_key: str  # the state of the library it was fitted from
    model: bytes
    fitted_at: datetime


def for_you_secret(connection: Connection, user_id: int) -> str | None:
    """The secret of the reader's private "for you" feed, if it was made."""
    return connection.scalar(select(for_you.c.feed_secret).where(for_you.c.user_id == user_id))


def make_for_you_secret(connection: Connection, user_id: int) -> str:
    """The secret of the reader's private "for you" feed, made on first use."""
    statement = insert_for(connection.dialect.name, for_you).on_conflict_do_nothing()
    connection.execute(statement.values(user_id=user_id, feed_secret=secrets.token_urlsafe(24)))
    return str(for_you_secret(connection, user_id))


def reader_of_for_you_secret(connection: Connection, secret: str) -> int | None:
    query = select(for_you.c.user_id).where(for_you.c.feed_secret == secret)
    return connection.scalar(query)


def fitted_model(connection: Connection, user_id: int) -> FittedModel | None:
    query = select(for_you.c.library_key, for_you.c.model, for_you.c.fitted_at).where(
        for_you.c.user_id == user_id, for_you.c.model.is_not(None)
    )
    row = connection.execute(query).first()
    return FittedModel(row[0], bytes(row[1]), as_utc(row[2]) or row[2]) if row else None


def keep_model(
    connection: Connection, user_id: int, library_key: str, model: bytes, now: datetime
) -> None:
    make_for_you_secret(connection, user_id)
    connection.execute(
        update(for_you)
        .where(for_you.c.user_id == user_id)
        .values(library_key=library_key, model=model, fitted_at=now)
    )
