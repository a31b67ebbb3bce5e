"""The three vote actions: toggle, up (idempotent) and clear (takes the vote back)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.web.conftest import csrf


def _vote(site: TestClient, paper_id: str, action: str) -> dict[str, object]:
    response = site.post(
        f"/papers/{paper_id}/vote",
        params={"action": action},
        headers={"X-CSRF-Token": csrf(site), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_up_toggle_and_clear(store: Store, site: TestClient, sign_in: Callable) -> None:
    paper = make_paper()
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    sign_in(site)
    assert _vote(site, paper.id, "up") == {"paper_id": paper.id, "upvotes": 1, "voted": True}
    assert _vote(site, paper.id, "up")["upvotes"] == 1  # up twice is one vote
    assert _vote(site, paper.id, "clear") == {"paper_id": paper.id, "upvotes": 0, "voted": False}
    assert _vote(site, paper.id, "clear")["upvotes"] == 0  # clear twice is harmless
    assert _vote(site, paper.id, "toggle")["voted"] is True
    assert _vote(site, paper.id, "toggle") == {"paper_id": paper.id, "upvotes": 0, "voted": False}
