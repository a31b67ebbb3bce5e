"""Every list takes the same filter: category chips (combinable, in the URL, remembered for a
signed-in reader, forgotten with all=1), and unseen=1 (without what the reader opened or
voted for); the JSON twins take it too, and hostile values are 400s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from dailypapers.demo import load_demo_if_empty, load_demo_votes
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.views import record_view
from dailypapers.storage.votes import add_vote

DAY = "/papers/date/2026-07-01"
LISTS = [DAY, "/papers/week/2026-W26", "/papers/month/2026-06", "/trending"]
LISTS += ["/authors/Pengfei%20Wan", "/categories/cs.LG", "/search?q=language+model"]


@pytest.fixture
def demo(store: Store, site: TestClient) -> TestClient:
    load_demo_if_empty(store)
    load_demo_votes(store, datetime.now(UTC))  # for trending
    return site


def json_of(site: TestClient, path: str, params: list[tuple[str, str]] | None = None) -> dict:  # type: ignore[type-arg]
    base, _, query = path.partition("?")
    response = site.get(f"{base}.json" + (f"?{query}" if query else ""), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def categories_of(data: dict) -> list[list[str]]:  # type: ignore[type-arg]
    entries = data["entries"] if "entries" in data else data["results"]  # a list, a search
    return [e["paper"]["categories"] if "paper" in e else e["categories"] for e in entries]


@pytest.mark.parametrize("path", LISTS)
def test_categories_combine_on_every_list_and_its_twin(demo: TestClient, path: str) -> None:
    everything = categories_of(json_of(demo, path))
    one = categories_of(json_of(demo, path, [("category", "cs.CL")]))
    both = categories_of(json_of(demo, path, [("category", "cs.CL"), ("category", "cs.CV")]))
    assert one and all("cs.CL" in c for c in one)
    assert all({"cs.CL", "cs.CV"} & set(c) for c in both)
    assert len(one) <= len(both) and any("cs.CL" not in c for c in everything)


def test_chips_toggle_one_category_and_keep_the_others(demo: TestClient) -> None:
    html = demo.get(DAY, params=[("category", "cs.CL"), ("sort", "newest")]).text
    assert f'class="chip selected" href="{DAY}?sort=newest" aria-current="true">cs.CL' in html
    assert f'href="{DAY}?sort=newest&amp;category=cs.CL&amp;category=cs.CV">cs.CV' in html
    assert f'<a class="chip clear" href="{DAY}?sort=newest">show all</a>' in html
    assert demo.get(DAY).text.count('class="chip selected"') == 0


def test_a_signed_in_readers_choice_is_remembered_until_all(
    demo: TestClient, sign_in: Callable[..., User]
) -> None:
    sign_in(demo)
    json_of(demo, DAY, [("category", "cs.CL"), ("category", "cs.CV")])
    for path in (DAY, "/papers/week/2026-W27", "/trending"):
        data = json_of(demo, path)
        assert data["categories"] == ["cs.CL", "cs.CV"] and data["categories_remembered"], path
    html = demo.get("/papers/week/2026-W27").text
    assert "Showing cs.CL, cs.CV" in html and "?all=1" in html
    assert 'href="/feeds/daily.atom?week=2026-W27"' in html  # a feed is not the reader's
    assert json_of(demo, DAY, [("all", "1")])["categories"] == []
    assert json_of(demo, DAY)["categories"] == []  # forgotten


def test_an_anonymous_choice_is_not_remembered(demo: TestClient) -> None:
    json_of(demo, DAY, [("category", "cs.CL")])
    data = json_of(demo, DAY)
    assert data["categories"] == [] and not data["categories_remembered"]


def test_unseen_leaves_out_what_the_reader_opened_or_voted_for(
    store: Store, demo: TestClient, sign_in: Callable[..., User]
) -> None:
    reader = sign_in(demo)
    first = [e["paper"]["id"] for e in json_of(demo, DAY)["entries"][:2]]
    now = datetime.now(UTC)
    with store.transaction() as connection:
        record_view(connection, reader.id, first[0], now)
        add_vote(connection, reader.id, first[1], now)
    data = json_of(demo, DAY, [("unseen", "1")])
    assert data["unseen"] and data["total"] == 298
    assert not set(first) & {e["paper"]["id"] for e in data["entries"]}
    assert "Show the papers I have seen or voted on" in demo.get(f"{DAY}?unseen=1").text
    anonymous = TestClient(demo.app)
    assert json_of(anonymous, DAY, [("unseen", "1")])["total"] == 300  # nobody's to hide


@pytest.mark.parametrize(
    "value",
    ["cs.CL<script>", "'; drop table papers; --", "x" * 100, "cs..CL", "", "cs.CL\r\nX: y"],
)
@pytest.mark.parametrize("path", [DAY, "/trending", "/categories/cs.LG", "/search?q=model"])
def test_a_category_that_is_not_one_is_a_400(site: TestClient, path: str, value: str) -> None:
    sep = "&" if "?" in path else "?"
    response = site.get(f"{path}{sep}category={quote(value)}")
    assert response.status_code == 400, (path, value)
    assert "<script>" not in response.text


def test_too_many_categories_is_a_400(site: TestClient) -> None:
    many = [("category", f"cs.X{n}") for n in range(21)]
    response = site.get(f"{DAY}.json", params=many)
    assert response.status_code == 400 and response.json()["field"] == "category"
