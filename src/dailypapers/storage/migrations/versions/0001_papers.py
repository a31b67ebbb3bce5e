"""Papers with their versions, categories and listing days; submissions; harvest cursors.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def paper_child(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        *columns,
        # Clustered on the key: one b-tree per table instead of two, for bulk-import speed.
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.String(64), primary_key=True),
        *(
            sa.Column(name, sa.Text)
            for name in (
                "title",
                "abstract",
                "comments",
                "journal_ref",
                "doi",
                "report_no",
                "license",
                "submitter",
                "github_repo",
                "project_page",
            )
        ),
        sa.Column("authors", sa.JSON),
        sa.Column("published", sa.Date),
        sa.Column("first_listed", sa.Date),
        sa.Column(
            "announced", sa.Date, sa.Computed("coalesce(first_listed, published)", persisted=True)
        ),
        sa.Column("field_sources", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_papers_announced", "papers", ["announced"])
    paper_child(
        "paper_versions",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("created", sa.DateTime(timezone=True)),
    )
    paper_child(
        "paper_categories",
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("category", sa.Text, nullable=False),
    )
    op.create_index("ix_paper_categories_category", "paper_categories", ["category", "paper_id"])
    paper_child("paper_listings", sa.Column("day", sa.Date, primary_key=True))
    paper_child(
        "submissions",
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.Text),
        sa.Column("upvotes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_index("ix_submissions_submitted_at", "submissions", ["submitted_at"])
    op.create_table(
        "harvest_cursors",
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("resumption_token", sa.Text),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("records", sa.Integer, nullable=False, server_default="0"),
        sa.Column("complete_list_size", sa.Integer),
        sa.Column("finished", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "harvest_cursors",
        "submissions",
        "paper_listings",
        "paper_categories",
        "paper_versions",
        "papers",
    ):
        op.drop_table(table)
