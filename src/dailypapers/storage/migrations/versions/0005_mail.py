"""Mail: subscribers, their categories and saved searches, the outbox, the signing secret.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True
        ),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        _moment("created_at", nullable=False),
        _moment("confirmation_sent_at"),
        _moment("confirmed_at"),
        _moment("unsubscribed_at"),
    )
    subscriber = sa.ForeignKey("subscribers.id", ondelete="CASCADE")
    op.create_table(
        "subscriber_categories",
        sa.Column("subscriber_id", sa.Integer, subscriber, primary_key=True),
        sa.Column("category", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("query", sa.Text, nullable=False),
        _moment("created_at", nullable=False),
        sa.UniqueConstraint("subscriber_id", "query", name="uq_saved_searches_subscriber_query"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period_key", sa.String(32), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        _moment("created_at", nullable=False),
        _moment("updated_at", nullable=False),
        sa.UniqueConstraint("subscriber_id", "period_key", name="uq_outbox_subscriber_period"),
    )
    op.create_index("ix_outbox_period_key", "outbox", ["period_key"])
    op.create_index("ix_outbox_updated_at", "outbox", ["updated_at"])
    op.create_table(
        "signing_secret",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(128), nullable=False),
    )
