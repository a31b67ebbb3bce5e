"""The tables, as SQLAlchemy Core objects for queries; the DDL itself lives in the migrations."""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# JSONB on PostgreSQL so that field origins merge with `||` in an upsert.
SOURCES_JSON = JSON().with_variant(JSONB(), "postgresql")

papers = Table(
    "papers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text),
    Column("abstract", Text),
    Column(
        "authors", JSON
    ),  # names in order, in the paper row: one row per author is 7x the writes
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("report_no", Text),
    Column("license", Text),
    Column("submitter", Text),
    Column("github_repo", Text),
    Column("project_page", Text),
    Column("published", Date),
    Column("first_listed", Date),
    Column("announced", Date, Computed("coalesce(first_listed, published)", persisted=True)),
    Column("field_sources", SOURCES_JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("hidden", Boolean, nullable=False, server_default=false()),  # by an admin
)

paper_versions = Table(
    "paper_versions",
    metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created", DateTime(timezone=True)),
    sqlite_with_rowid=False,
)


paper_categories = Table(
    "paper_categories",
    metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),  # 0 is the primary category
    Column("category", Text, nullable=False),
    sqlite_with_rowid=False,
)

paper_listings = Table(
    "paper_listings",
    metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    sqlite_with_rowid=False,
)

submissions = Table(
    "submissions",
    metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", Text),
    Column("upvotes", Integer, nullable=False, server_default="0"),
    Column("source", String(32), nullable=False),
    sqlite_with_rowid=False,
)

harvest_cursors = Table(
    "harvest_cursors",
    metadata,
    Column("name", String(512), primary_key=True),  # what is harvested: endpoint + arguments
    Column("resumption_token", Text),
    Column("pages", Integer, nullable=False, server_default="0"),
    Column("records", Integer, nullable=False, server_default="0"),
    Column("complete_list_size", Integer),
    Column("finished", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

Index("ix_papers_announced", papers.c.announced)
Index("ix_paper_categories_category", paper_categories.c.category, paper_categories.c.paper_id)
Index("ix_submissions_submitted_at", submissions.c.submitted_at)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("banned", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("email", String(320)),  # optional; password-reset mails go to it once confirmed
    Column("email_confirmed_at", DateTime(timezone=True)),
    Column("reset_sent_at", DateTime(timezone=True)),  # the last reset mail, to space them
    Column("private_upvotes", Boolean, nullable=False, server_default=false()),
    Column("reply_mails", Boolean, nullable=False, server_default=true()),  # the off switch
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Log-in attempts per key ("user:NAME@ADDRESS" or "addr:ADDRESS") in a window that starts at
# the first attempt; one row per key, counted by an upsert before the password is checked.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
)

votes = Table(
    "votes",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),  # Markdown as written; rendered when shown
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    Column("hidden", Boolean, nullable=False, server_default=false()),
)

# Row 1: moved on by every write transaction (Store.transaction), so that pages cached for
# anonymous readers are rebuilt after any change, made by any process. Row 2: moved on by
# every vote instead (storage.votes.mark_vote), which also leaves a mark in vote_marks.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)
DATA_ROW, VOTES_ROW = 1, 2

# The paper and feed day of each recent vote, by the votes version it moved on to: a cached
# page showing neither is still right after it (web.page_cache).
vote_marks = Table(
    "vote_marks",
    metadata,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("paper_id", String(64), nullable=False),
    Column("day", Date),
)

Index("ix_sessions_user", sessions.c.user_id)
Index("ix_api_tokens_user", api_tokens.c.user_id)
Index("ix_users_email", users.c.email)
Index("ix_login_attempts_started_at", login_attempts.c.started_at)
Index("ix_votes_paper", votes.c.paper_id, votes.c.created_at)
Index("ix_votes_created_at", votes.c.created_at)
Index("ix_comments_paper", comments.c.paper_id, comments.c.created_at)

# One row per paper with an embedding; `key` names it in the vector index file (SQLite), and
# `text_hash` tells when the paper's text changed since. 384 dimensions: the bundled MiniLM.
embeddings = Table(
    "embeddings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column(
        "paper_id",
        ForeignKey("papers.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("model", String(128), nullable=False),
    Column("text_hash", String(32), nullable=False),
    Column("vector", LargeBinary().with_variant(Vector(384), "postgresql"), nullable=False),
)

# Filled by triggers on SQLite (migration 0004), drained by the keyword indexer.
search_queue = Table(
    "search_queue",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(64), nullable=False),
)

# Built by migration 0004 on PostgreSQL only, in DDL that has no portable SQLAlchemy form.
POSTGRES_SEARCH_INDEXES = frozenset({"ix_embeddings_vector", "ix_papers_fulltext"})

# Mail (migration 0005): subscribers, what they follow, and the outbox of digests.
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised, lower case
    Column("user_id", ForeignKey("users.id", ondelete="SET NULL"), unique=True),
    Column("frequency", String(8), nullable=False),  # daily | weekly
    Column("time_zone", String(64), nullable=False),  # an IANA name, e.g. Europe/Paris
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmation_sent_at", DateTime(timezone=True)),
    Column("confirmed_at", DateTime(timezone=True)),  # nothing is mailed before this
    Column("unsubscribed_at", DateTime(timezone=True)),
)

subscriber_categories = Table(
    "subscriber_categories",
    metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(64), primary_key=True),
    sqlite_with_rowid=False,
)

saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
    Column("query", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber_id", "query", name="uq_saved_searches_subscriber_query"),
)

# One row per digest and period, written before the digest is sent: the unique key is what
# keeps a rerun from mailing a subscriber twice for one period (see mail/delivery.py).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
    Column("period_key", String(32), nullable=False),  # e.g. "daily:2026-07-01"
    Column("first_day", Date, nullable=False),  # the feed days the digest covers
    Column("last_day", Date, nullable=False),
    Column("status", String(8), nullable=False),  # pending | sent | failed
    Column("message_id", String(255), nullable=False),  # the same on every attempt
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber_id", "period_key", name="uq_outbox_subscriber_period"),
)

# One row: the key that signs links in mails when no `secret_key` setting is given.
signing_secret = Table(
    "signing_secret",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(128), nullable=False),
)

Index("ix_outbox_period_key", outbox.c.period_key)
Index("ix_outbox_updated_at", outbox.c.updated_at)

# Requests counted per key ("votes/user/12") and fixed window, for the rate limits.
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),  # Unix seconds
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("hits", Integer, nullable=False),
)

MOMENT = DateTime(timezone=True)

# What the site keeps current: categories (cs.LG) or whole archives (cs).
follows = Table(
    "follows",
    metadata,
    Column("category", String(64), primary_key=True),
    Column("since", Date),  # the backfill's first day, when one was asked for
    Column("added_at", MOMENT, nullable=False),
    # Kept when removed, so that DAILYPAPERS_FOLLOW, which seeds the table, does not bring
    # back what an admin removed.
    Column("removed_at", MOMENT),
)

# Each announcement day stored from arXiv's listing feed: a digest waits for its day.
announcements = Table(
    "announcements",
    metadata,
    Column("day", Date, primary_key=True),
    Column("feed_url", Text, nullable=False),
    Column("stored_at", MOMENT, nullable=False),
    Column("new", Integer, nullable=False),
    Column("cross", Integer, nullable=False),
    Column("replaced", Integer, nullable=False),
)

# The validators of the last answer of each feed, for conditional GETs.
feed_state = Table(
    "feed_state",
    metadata,
    Column("url", String(512), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("day", Date),  # the announcement day (pubDate) of the last answer
    Column("checked_at", MOMENT, nullable=False),
)

# The day each followed OAI-PMH set is harvested up to: the next harvest's `from`.
oai_marks = Table(
    "oai_marks",
    metadata,
    Column("set_spec", String(64), primary_key=True),
    Column("harvested_until", Date, nullable=False),
    Column("updated_at", MOMENT, nullable=False),
)

# Work for the workers: claimed with a lease, renewed while it runs, claimed again by
# another worker when the lease runs out. `key` (kind + arguments) makes enqueueing
# idempotent; a recurring job is one row that goes back to queued with a later run_at.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("key", String(255), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("run_at", MOMENT, nullable=False),
    Column("lease_until", MOMENT),
    Column("worker_id", String(128)),
    Column("attempts", Integer, nullable=False, server_default="0"),  # failed in a row
    Column("runs", Integer, nullable=False, server_default="0"),
    Column("last_started", MOMENT),
    Column("last_finished", MOMENT),
    Column("last_duration", Float),
    Column("last_result", Text),
    Column("last_error", Text),
    Column("alerted_at", MOMENT),  # the admins were mailed about its failures
    Column("created_at", MOMENT, nullable=False),
)
Index("ix_jobs_state_run_at", jobs.c.state, jobs.c.run_at)

# The workers alive: each beats its heart while it runs.
workers = Table(
    "workers",
    metadata,
    Column("id", String(128), primary_key=True),  # host:pid:random
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("device", String(32), nullable=False),
    Column("started_at", MOMENT, nullable=False),
    Column("heartbeat_at", MOMENT, nullable=False),
    Column("job_id", Integer),  # the job it runs now
)


# The categories a signed-in reader's lists are filtered to (chips remembered between visits).
reader_categories = Table(
    "reader_categories",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(64), primary_key=True),
)

# The papers a signed-in reader opened, for "hide papers I have seen".
paper_views = Table(
    "paper_views",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("seen_at", MOMENT, nullable=False),
    sqlite_with_rowid=False,
)

# One mail per reply to a reader's comment, sent once (pending, then sent or failed).
reply_notices = Table(
    "reply_notices",
    metadata,
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(8), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", MOMENT, nullable=False),
    Column("updated_at", MOMENT, nullable=False),
)
Index("ix_reply_notices_status", reply_notices.c.status, reply_notices.c.created_at)

# A reader's library: named tags (a paper may be in several), each with the secret that its
# private Atom feed's URL carries, and the papers they marked "not interested".
library_tags = Table(
    "library_tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("feed_secret", String(64), nullable=False, unique=True),
    Column("created_at", MOMENT, nullable=False),
    UniqueConstraint("user_id", "name"),
)

library_items = Table(
    "library_items",
    metadata,
    Column("tag_id", ForeignKey("library_tags.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("added_at", MOMENT, nullable=False),
    sqlite_with_rowid=False,
)

not_interested = Table(
    "not_interested",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("marked_at", MOMENT, nullable=False),
    sqlite_with_rowid=False,
)

for_you = Table(
    "for_you",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("feed_secret", String(64), nullable=False, unique=True),
    Column("library_key", String(32)),  # the library the model was fitted from
    Column("model", LargeBinary),
    Column("fitted_at", MOMENT),
)
