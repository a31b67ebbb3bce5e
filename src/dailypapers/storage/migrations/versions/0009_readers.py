"""What a reader keeps: the categories their lists show, the papers they opened, whether their
upvotes are public, and the mails that tell them of replies to their comments.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("private_upvotes", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "users", sa.Column("reply_mails", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.create_table(
        "reader_categories",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("category", sa.String(64), primary_key=True),
    )
    op.create_table(
        "paper_views",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seen_at", MOMENT, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reply_notices",
        sa.Column(
            "comment_id",
            sa.Integer,
            sa.ForeignKey("comments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "recipient_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(8), nullable=False),  # pending | sent | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_index("ix_reply_notices_status", "reply_notices", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_notices_status", "reply_notices")
    op.drop_table("reply_notices")
    op.drop_table("paper_views")
    op.drop_table("reader_categories")
    op.drop_column("users", "reply_mails")
    op.drop_column("users", "private_upvotes")
