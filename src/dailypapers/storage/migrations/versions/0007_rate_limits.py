"""Rate limits: one counter per key and fixed time window, shared by every worker process.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),  # Unix seconds
        sa.Column("expires_at", sa.BigInteger, nullable=False),  # window_start + its length
        sa.Column("hits", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
