"""Keeping current: what the site follows, the announcement days stored, the feeds' and
OAI-PMH sets' marks, and the jobs table that workers claim with leases.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("category", sa.String(64), primary_key=True),  # cs.LG, or an archive: cs
        sa.Column("since", sa.Date),  # the backfill's first day, when one was asked for
        sa.Column("added_at", MOMENT, nullable=False),
        sa.Column("removed_at", MOMENT),  # kept, so that the setting does not bring it back
    )
    op.create_table(
        "announcements",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("stored_at", MOMENT, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("cross", sa.Integer, nullable=False),
        sa.Column("replaced", sa.Integer, nullable=False),
    )
    op.create_table(
        "feed_state",
        sa.Column("url", sa.String(512), primary_key=True),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("day", sa.Date),  # the announcement day (pubDate) of the last answer
        sa.Column("checked_at", MOMENT, nullable=False),
    )
    op.create_table(
        "oai_marks",
        sa.Column("set_spec", sa.String(64), primary_key=True),  # cs, or cs:cs:LG
        sa.Column("harvested_until", sa.Date, nullable=False),  # the next harvest's `from`
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, unique=True),  # kind + arguments
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),  # queued | running | done | failed
        sa.Column("run_at", MOMENT, nullable=False),
        sa.Column("lease_until", MOMENT),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # failed in a row
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_started", MOMENT),
        sa.Column("last_finished", MOMENT),
        sa.Column("last_duration", sa.Float),
        sa.Column("last_result", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("alerted_at", MOMENT),  # the admins were mailed about its failures
        sa.Column("created_at", MOMENT, nullable=False),
    )
    op.create_index("ix_jobs_state_run_at", "jobs", ["state", "run_at"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(128), primary_key=True),  # host:pid:random
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("started_at", MOMENT, nullable=False),
        sa.Column("heartbeat_at", MOMENT, nullable=False),
        sa.Column("job_id", sa.Integer),  # the job it runs now
    )


def downgrade() -> None:
    for table in ("workers", "jobs", "oai_marks", "feed_state", "announcements", "follows"):
        op.drop_table(table)
