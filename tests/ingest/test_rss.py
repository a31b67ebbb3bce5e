"""arXiv's listing feeds: the shared days parse to exactly their expected ids; bad input
is one IngestError with a one-line reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.rss import Feed, feed_url, parse_feed
from dailypapers.models import PaperVersion
from tests.conftest import shared

DAYS = ("2026-06-26", "2026-06-27", "2026-06-29", "2026-06-30", "2026-07-01")
FEEDS = "fixtures/arxiv-rss/cs.CL+cs.LG"


def shared_feed(day: str) -> Feed:
    return parse_feed(shared(f"{FEEDS}/{day}.xml").read_bytes(), f"{day}.xml")


def expected(day: str) -> dict[str, list[str]]:
    return json.loads(shared(f"{FEEDS}/{day}.expected.json").read_text())


@pytest.mark.parametrize("day", DAYS)
def test_each_shared_day_parses_to_its_expected_ids(day: str) -> None:
    feed = shared_feed(day)
    assert feed.day == date.fromisoformat(day)
    kinds = expected(day)
    assert {kind: [i.paper.id for i in feed.of_kind(kind)] for kind in kinds} == kinds
    for item in feed.items:
        listed = item.kind in ("new", "cross")
        assert item.paper.listed == ([feed.day] if listed else [])
        assert item.paper.versions == [PaperVersion(item.version)]
        assert item.paper.title and item.paper.abstract and item.paper.authors
        assert item.paper.categories


def test_an_item_carries_the_paper() -> None:
    first = shared_feed("2026-07-01").items[0]
    paper = first.paper
    assert (paper.id, first.version, first.kind) == ("2606.30775", 1, "new")
    assert paper.title == (
        "A Single Rewrite Suffices: Empirical Lessons from Production Skill Description "
        "Optimization"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("Enterprise AI agents route user queries")
    assert not paper.abstract.startswith("Abstract")
    assert paper.authors == [
        "Yangqiaoyu Zhou",
        "Mohammad Alqudah",
        "Kwei-Herng Lai",
        "Aaron Halfaker",
        "Yingqi Xiong",
        "Yaar Harari",
    ]
    assert paper.categories == ["cs.CL", "cs.AI"]
    assert paper.published is None  # the feed dates nothing
    assert paper.sources["title"] == paper.sources["authors"] == "rss:arXiv"


def test_replacements_are_new_versions_listed_on_no_day() -> None:
    replaced = shared_feed("2026-07-01").of_kind("replace", "replace-cross")
    assert [(i.paper.id, i.version, i.kind) for i in replaced] == [
        ("2606.26100", 2, "replace"),
        ("2606.26194", 2, "replace-cross"),
    ]
    assert all(i.paper.listed == [] for i in replaced)
    assert replaced[1].paper.categories == ["cs.CV", "cs.LG", "eess.IV"]


def test_an_empty_channel_is_a_day_without_items() -> None:
    assert shared_feed("2026-06-27") == Feed(date(2026, 6, 27), [])


def rss(items: str = "", pub_date: str = "Wed, 01 Jul 2026 00:00:00 -0400") -> bytes:
    channel_date = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
        f"{channel_date}{items}</channel></rss>"
    ).encode()


def item(
    guid: str | None = "oai:arXiv.org:2606.00001v3",
    kind: str | None = "new",
    description: str = "arXiv:2606.00001v3 Announce Type: new \nAbstract: Words.",
) -> str:
    parts = [
        "<item><title>A  title\n  wrapped</title>",
        f"<description>{description}</description>",
    ]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if kind is not None:
        parts.append(f"<arxiv:announce_type>{kind}</arxiv:announce_type>")
    parts.append("<category>cs.LG</category><category>cs.LG</category><category>stat.ML</category>")
    parts.append("<dc:creator>Ada Lovelace, Charles Babbage and Alan Turing</dc:creator></item>")
    return "".join(parts)


def test_a_hand_written_item() -> None:
    feed = parse_feed(rss(item()), "feed")
    [only] = feed.items
    assert (only.paper.id, only.version, only.kind) == ("2606.00001", 3, "new")
    assert only.paper.title == "A title wrapped"
    assert only.paper.abstract == "Words."
    assert only.paper.categories == ["cs.LG", "stat.ML"]
    assert only.paper.authors == ["Ada Lovelace", "Charles Babbage", "Alan Turing"]


def test_the_day_is_the_pub_date_in_its_own_offset() -> None:
    assert parse_feed(rss(pub_date="Thu, 02 Jul 2026 23:30:00 -0400"), "f").day == date(2026, 7, 2)
    assert parse_feed(rss(pub_date="Fri, 03 Jul 2026 00:00:00 +0000"), "f").day == date(2026, 7, 3)


def test_the_id_and_type_can_come_from_the_description_alone() -> None:
    feed = parse_feed(rss(item(guid=None, kind=None)), "feed")
    assert [(i.paper.id, i.version, i.kind) for i in feed.items] == [("2606.00001", 3, "new")]
    # A guid without version takes the description's, for the same paper.
    feed = parse_feed(rss(item(guid="oai:arXiv.org:2606.00001")), "feed")
    assert feed.items[0].version == 3


def test_an_old_style_id() -> None:
    feed = parse_feed(rss(item(guid="oai:arXiv.org:hep-th/9901001v2", kind="replace")), "f")
    assert [(i.paper.id, i.version, i.paper.listed) for i in feed.items] == [
        ("hep-th/9901001", 2, [])
    ]


def test_a_paper_under_two_categories_is_one_item() -> None:
    assert len(parse_feed(rss(item() + item()), "feed").items) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "feed: malformed XML"),
        (b"<rss><channel><item></rss>", "feed: malformed XML at line 1"),
        (
            b"<!DOCTYPE html><html><head><title>Error</title></head><body>Try later</body></html>",
            "feed: not an RSS feed (root element <html>)",
        ),
        (b"<rss><title>no channel</title></rss>", "feed: not an RSS feed (root element <rss>)"),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
            "feed: not an RSS feed (root element <feed>)",
        ),
        (rss(pub_date=""), "feed: the channel has no pubDate"),
        (rss(pub_date="yesterday"), "feed: the channel's pubDate is no date: 'yesterday'"),
        (
            rss(item() + item(guid=None, description="no header")),
            "feed: item 2: no arXiv id (guid None)",
        ),
        (
            rss(item(guid="oai:arXiv.org:../../etc/passwd")),
            "feed: item 1: not an arXiv id: '../../etc/passwd'",
        ),
        (
            rss(item(guid="oai:arXiv.org:2613.00001v1")),  # no 13th month
            "feed: item 1: not an arXiv id: '2613.00001v1'",
        ),
        (
            rss(item(guid="oai:arXiv.org:2606.00001", description="")),
            "feed: item 1: no version in the id of 2606.00001",
        ),
        (rss(item(kind="withdrawn")), "feed: item 1: unknown announce type 'withdrawn'"),
        (rss(item(kind=None, description="nothing")), "feed: item 1: unknown announce type ''"),
    ],
)
def test_bad_input_is_one_line(data: bytes, reason: str) -> None:
    with pytest.raises(IngestError) as raised:
        parse_feed(data, "feed")
    message = str(raised.value)
    assert message.startswith(reason)
    assert "\n" not in message


def test_entities_are_not_resolved_nor_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><pubDate>Wed, 01 Jul 2026 00:00:00 -0400</pubDate>"
        "<item><title>&x;</title><guid>oai:arXiv.org:2606.00001v1</guid>"
        "<description>arXiv:2606.00001v1 Announce Type: new \nAbstract: a</description>"
        "</item></channel></rss>"
    ).encode()
    feed = parse_feed(data, "feed")
    assert "SECRET" not in (feed.items[0].paper.title or "")


def test_feed_url() -> None:
    base = "https://rss.arxiv.org/rss/"
    assert feed_url(base, ["cs.CL", "cs.LG"]) == "https://rss.arxiv.org/rss/cs.CL+cs.LG"
    assert feed_url("http://127.0.0.1:8000/rss", ["hep-th"]) == "http://127.0.0.1:8000/rss/hep-th"
    # Whatever a category holds stays inside the one path segment.
    assert feed_url(base, ["../admin", "a+b", "x?y#z"]) == (
        "https://rss.arxiv.org/rss/..%2Fadmin+a%2Bb+x%3Fy%23z"
    )
    with pytest.raises(ValueError):
        feed_url(base, [])
