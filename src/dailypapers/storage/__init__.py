"""Storage: the schema, its migrations and the repositories; the only code that speaks SQL."""

from dailypapers.storage.store import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
