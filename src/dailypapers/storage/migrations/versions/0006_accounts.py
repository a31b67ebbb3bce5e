"""Accounts: an optional confirmed address, password-reset bookkeeping, and log-in attempts
counted per key in one row (an upsert, so that concurrent attempts are counted one by one).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(320)))
    op.add_column("users", sa.Column("email_confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("reset_sent_at", sa.DateTime(timezone=True)))
    op.create_index("ix_users_email", "users", ["email"])
    op.drop_index("ix_login_failures_key_at", "login_failures")
    op.drop_table("login_failures")
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(160), primary_key=True),  # (username, address) or address
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("ix_login_attempts_started_at", "login_attempts", ["started_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    op.drop_index("ix_users_email", "users")
    with op.batch_alter_table("users") as batch:
        for column in ("reset_sent_at", "email_confirmed_at", "email"):
            batch.drop_column(column)
