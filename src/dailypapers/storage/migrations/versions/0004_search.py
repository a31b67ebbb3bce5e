"""Search: paper embeddings, and the queue that keeps an embedded keyword index in step.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# On SQLite the keyword index is a tantivy folder beside the database: every change to a paper
# queues its id in the same transaction, and the indexer drains the queue.
SQLITE_TRIGGERS = {
    "papers_search_insert": "AFTER INSERT ON papers BEGIN "
    "INSERT INTO search_queue (paper_id) VALUES (new.id); END",
    "papers_search_update": "AFTER UPDATE ON papers BEGIN "
    "INSERT INTO search_queue (paper_id) VALUES (new.id); END",
    "papers_search_delete": "AFTER DELETE ON papers BEGIN "
    "INSERT INTO search_queue (paper_id) VALUES (old.id); END",
}

# On PostgreSQL the keyword index is full text over the same weighted document the queries use
# (dailypapers.search.postgres.DOCUMENT).
POSTGRES_FULLTEXT = (
    "CREATE INDEX ix_papers_fulltext ON papers USING gin (("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(abstract, '')), 'B')))"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "embeddings",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("text_hash", sa.String(32), nullable=False),
        sa.Column(
            "vector", sa.LargeBinary().with_variant(Vector(384), "postgresql"), nullable=False
        ),
    )
    op.create_table(
        "search_queue",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.String(64), nullable=False),
    )
    if postgres:
        op.execute(
            "CREATE INDEX ix_embeddings_vector ON embeddings USING hnsw (vector vector_cosine_ops)"
        )
        op.execute(POSTGRES_FULLTEXT)
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
