"""The tables the queries use (schema.py) are the tables the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dailypapers.storage import Store
from dailypapers.storage.schema import POSTGRES_SEARCH_INDEXES, metadata


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.read() as connection:
        context = MigrationContext.configure(connection)
        differences = [d for d in compare_metadata(context, metadata) if not _expected_extra(d)]
    assert differences == []


def _expected_extra(difference: tuple) -> bool:
    kind, thing = difference[0], difference[1]
    if kind == "remove_table":
        return thing.name == "alembic_version"
    return kind == "remove_index" and thing.name in POSTGRES_SEARCH_INDEXES
