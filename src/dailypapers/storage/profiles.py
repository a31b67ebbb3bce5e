"""What a member did on the site, for their profile and a paper's "upvoted by", newest first
(their comments: storage.comments)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from dailypapers.storage.schema import papers, submissions, users, votes

LOCAL_SOURCE = "local"  # submissions made on this site (not brought from Hugging Face)


def voters(connection: Connection, paper_id: str, limit: int) -> list[str]:
    """The usernames of a paper's newest `limit` upvoters, leaving out those whose upvotes
    are private."""
    query = (
        select(users.c.username)
        .join(votes, votes.c.user_id == users.c.id)
        .where(votes.c.paper_id == paper_id, users.c.private_upvotes.is_(False))
        .order_by(votes.c.created_at.desc(), users.c.id)
        .limit(limit)
    )
    return list(connection.scalars(query))


def upvoted_by(connection: Connection, user_id: int, limit: int) -> list[str]:
    """The ids of the papers a member upvoted, newest vote first (hidden papers left out)."""
    query = (
        select(votes.c.paper_id)
        .join(papers, papers.c.id == votes.c.paper_id)
        .where(votes.c.user_id == user_id, papers.c.hidden.is_(False))
        .order_by(votes.c.created_at.desc(), votes.c.paper_id)
        .limit(limit)
    )
    return list(connection.scalars(query))


def submitted_by(connection: Connection, username: str, limit: int) -> list[str]:
    """The ids of the papers a member submitted here, newest first (hidden ones left out)."""
    query = (
        select(submissions.c.paper_id)
        .join(papers, papers.c.id == submissions.c.paper_id)
        .where(
            submissions.c.submitted_by == username,
            submissions.c.source == LOCAL_SOURCE,
            papers.c.hidden.is_(False),
        )
        .order_by(submissions.c.submitted_at.desc(), submissions.c.paper_id)
        .limit(limit)
    )
    return list(connection.scalars(query))
