"""The tables, as SQLAlchemy Core objects for queries; the DDL itself lives in the migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
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
