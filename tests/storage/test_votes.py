"""Votes: one per user and paper, and the storage says whether a call changed anything (the
site's toggle depends on it, on SQLite and on PostgreSQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime

from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote, remove_vote, vote_counts, voted_by
from tests.factories import make_paper


def test_a_vote_is_added_once_and_removed_once(store: Store) -> None:
    now = datetime.now(UTC)
    with store.transaction() as connection:
        upsert_papers(connection, [make_paper(id="2606.00001")])
        ada = create_user(connection, "ada", "unused", now, False)
        assert add_vote(connection, ada.id, "2606.00001", now) is True
        assert add_vote(connection, ada.id, "2606.00001", now) is False
        assert vote_counts(connection, ["2606.00001"]) == {"2606.00001": 1}
        assert voted_by(connection, ada.id, ["2606.00001"]) == {"2606.00001"}
        assert remove_vote(connection, ada.id, "2606.00001") is True
        assert remove_vote(connection, ada.id, "2606.00001") is False
        assert vote_counts(connection, ["2606.00001"]) == {"2606.00001": 0}
