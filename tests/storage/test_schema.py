"""The tables the queries use (schema.py) are the tables the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dailypapers.storage import Store
from dailypapers.storage.schema import metadata


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.read() as connection:
        context = MigrationContext.configure(connection)
        differences = [
            d
            for d in compare_metadata(context, metadata)
            if d[0] != "remove_table" or d[1].name != "alembic_version"
        ]
    assert differences == []
