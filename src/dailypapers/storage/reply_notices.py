"""Reply notices: one row per reply whose parent's author wants a mail about it.

A row is written `pending` in the reply's own transaction. A sender claims one by moving it
to `sending` in a single conditional UPDATE (so two workers never claim the same row), then
records `sent` or `failed`, or puts it back to `pending` for another try. A claim whose
worker died is taken again once it is `STALE` (see mail/replies.py: a row is marked `sent`
before the message's final "." is written, so a dead worker's claim was never delivered).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, insert, literal, or_, select, update
from sqlalchemy.orm import aliased

from dailypapers.storage.papers import as_utc
from dailypapers.storage.schema import comments, papers, reply_notices, users

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class ReplyNotice:
    comment_id: int  # the reply
    attempts: int  # this one included
    recipient: str  # the parent's author
    email: str | None  # their confirmed address (None: not confirmed, or none)
    wants_mail: bool  # their reply_mails switch, as it is now
    replier: str
    body: str  # the reply's Markdown
    removed: bool  # the reply was deleted or hidden since
    paper_id: str
    paper_title: str | None
    created_at: datetime


def add_reply_notice(
    connection: Connection, comment_id: int, parent_id: int, replier_id: int, now: datetime
) -> bool:
    """Write the notice of a reply, when the parent's author is someone else who has reply
    mails on and a confirmed address; whether one was written."""
    recipient = (
        select(
            literal(comment_id),
            users.c.id,
            literal(PENDING),
            literal(0),
            literal(now, reply_notices.c.created_at.type),
            literal(now, reply_notices.c.updated_at.type),
        )
        .join(comments, comments.c.user_id == users.c.id)
        .where(
            comments.c.id == parent_id,
            users.c.id != replier_id,
            users.c.reply_mails.is_(True),
            users.c.email_confirmed_at.is_not(None),
        )
    )
    columns = ["comment_id", "recipient_id", "status", "attempts", "created_at", "updated_at"]
    written = connection.execute(
        insert(reply_notices).from_select(columns, recipient),
        execution_options={"preserve_rowcount": True},
    )
    return written.rowcount == 1


def _claimable(stale_before: datetime) -> ColumnElement[bool]:
    return or_(
        reply_notices.c.status == PENDING,
        and_(reply_notices.c.status == SENDING, reply_notices.c.updated_at < stale_before),
    )


def claim_next(
    connection: Connection, now: datetime, stale_before: datetime, skip: Collection[int] = ()
) -> int | None:
    """Claim the oldest claimable notice but those of `skip` (a run tries each once); its
    comment id, or None when there is none left. Another worker may take a row between the
    look and the claim: then the next one."""
    claimable = _claimable(stale_before)
    if skip:
        claimable = and_(claimable, reply_notices.c.comment_id.not_in(list(skip)))
    while True:
        candidate = connection.scalar(
            select(reply_notices.c.comment_id)
            .where(claimable)
            .order_by(reply_notices.c.created_at, reply_notices.c.comment_id)
            .limit(1)
        )
        if candidate is None:
            return None
        claim = (
            update(reply_notices)
            .where(reply_notices.c.comment_id == candidate, claimable)
            .values(status=SENDING, attempts=reply_notices.c.attempts + 1, updated_at=now)
        )
        if connection.execute(claim).rowcount == 1:
            return candidate  # type: ignore[no-any-return]


def notice(connection: Connection, comment_id: int) -> ReplyNotice:
    """A claimed notice with what its mail says."""
    recipient, replier = aliased(users), aliased(users)
    row = connection.execute(
        select(
            reply_notices.c.attempts,
            recipient.c.username.label("recipient"),
            recipient.c.email,
            recipient.c.email_confirmed_at,
            recipient.c.reply_mails,
            replier.c.username.label("replier"),
            comments.c.body,
            comments.c.deleted,
            comments.c.hidden,
            comments.c.paper_id,
            comments.c.created_at,
            papers.c.title,
        )
        .join(comments, comments.c.id == reply_notices.c.comment_id)
        .join(recipient, recipient.c.id == reply_notices.c.recipient_id)
        .join(replier, replier.c.id == comments.c.user_id)
        .join(papers, papers.c.id == comments.c.paper_id)
        .where(reply_notices.c.comment_id == comment_id)
    ).one()
    return ReplyNotice(
        comment_id=comment_id,
        attempts=row.attempts,
        recipient=row.recipient,
        email=row.email if row.email_confirmed_at is not None else None,
        wants_mail=bool(row.reply_mails),
        replier=row.replier,
        body=row.body,
        removed=bool(row.deleted or row.hidden),
        paper_id=row.paper_id,
        paper_title=row.title,
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
    )


def settle(
    connection: Connection, comment_id: int, status: str, now: datetime, error: str | None = None
) -> None:
    """Record how a claimed notice went: SENT, FAILED, or PENDING to try again."""
    connection.execute(
        update(reply_notices)
        .where(reply_notices.c.comment_id == comment_id)
        .values(status=status, updated_at=now, last_error=error)
    )
