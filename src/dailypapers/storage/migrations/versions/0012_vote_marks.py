"""Votes move a counter of their own (a second row of data_version) and leave a mark naming
their paper and its day, so that a vote empties only the cached pages that show that paper
or that day, not every page of the site.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    data_version = sa.table("data_version", sa.column("id"), sa.column("version"))
    op.bulk_insert(data_version, [{"id": 2, "version": 0}])
    op.create_table(
        "vote_marks",
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date),
    )


def downgrade() -> None:
    op.drop_table("vote_marks")
    op.execute("DELETE FROM data_version WHERE id = 2")
