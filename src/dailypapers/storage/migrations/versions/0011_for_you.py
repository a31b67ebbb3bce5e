""" "For you" per reader: the secret of its private Atom feed, and the reader's model fitted
from their library (kept with the key of the library it was fitted from, so that it is
fitted again only when the library changes).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "for_you",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("feed_secret", sa.String(64), nullable=False, unique=True),
        sa.Column("library_key", sa.String(32)),
        sa.Column("model", sa.LargeBinary),
        sa.Column("fitted_at", MOMENT),
    )


def downgrade() -> None:
    op.drop_table("for_you")
