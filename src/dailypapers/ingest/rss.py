"""A pure parser of arXiv's listing feeds (RSS 2.0, https://rss.arxiv.org/rss/cs.CL+cs.LG).

A feed is one announcement: the channel's `pubDate` is its day, and each item a paper
with its `arxiv:announce_type`. New papers and cross-lists are listed on that day; a
replacement is a new version of a paper announced before, whose day stays its own. A
feed with no item (week-ends, holidays) announces nothing.

A feed is taken whole or not at all: one item without a usable id or type makes the
feed an IngestError, so that nothing of it is half-stored and the next try starts clean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime

from lxml import etree

from dailypapers.ingest.arxiv_api import block_of, normalize_arxiv_id, parse_xml, text_of
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.records import MAX_INTEGER, clean_block, one_line, split_authors
from dailypapers.models import Paper, PaperVersion, attribute_sources
from dailypapers.text import path_segment

SOURCE = "rss:arXiv"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
KINDS = ("new", "cross", "replace", "replace-cross")
LISTED_KINDS = frozenset({"new", "cross"})  # what goes on the day's list

_GUID_PREFIX = "oai:arxiv.org:"
# "arXiv:2606.30775v1 Announce Type: new \nAbstract: ..."
_HEADER = re.compile(r"^\s*(?P<id>\S+)\s+Announce Type:\s*(?P<kind>\S+)", re.IGNORECASE)
_ABSTRACT = re.compile(r"^\s*Abstract:\s*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FeedItem:
    paper: Paper
    version: int  # the version this announcement is of
    kind: str  # one of KINDS


@dataclass(frozen=True, slots=True)
class Feed:
    day: date  # the announcement's listing day: the channel's pubDate, in its own offset
    items: list[FeedItem]

    def of_kind(self, *kinds: str) -> list[FeedItem]:
        return [item for item in self.items if item.kind in kinds]


def feed_url(base: str, categories: Sequence[str]) -> str:
    """The feed of `categories` under `base` (https://rss.arxiv.org/rss/): one path
    segment, the categories joined by "+"; each is quoted, so it can add no segment."""
    if not categories:
        raise ValueError("a feed needs at least one category")
    return base.rstrip("/") + "/" + "+".join(path_segment(name) for name in categories)


def parse_feed(data: bytes, described: str) -> Feed:
    """The announcement of one feed answer; `described` (the URL, say) names it in errors."""
    root = parse_xml(data, described)
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        tag = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise IngestError(f"{described}: not an RSS feed (root element <{tag}>)")
    day = _channel_day(channel, described)
    items: list[FeedItem] = []
    seen: set[str] = set()
    for position, element in enumerate(channel.iterfind("item"), start=1):
        item = _item(element, day, f"{described}: item {position}")
        if item.paper.id not in seen:  # a paper listed under two of the categories once
            seen.add(item.paper.id)
            items.append(item)
    return Feed(day, items)


def _channel_day(channel: etree._Element, described: str) -> date:
    text = text_of(channel.find("pubDate"))
    if not text:
        raise IngestError(f"{described}: the channel has no pubDate")
    try:
        return parsedate_to_datetime(text).date()  # the date in the feed's own offset
    except (TypeError, ValueError, IndexError):
        raise IngestError(f"{described}: the channel's pubDate is no date: {text!r:.60}") from None


def _item(element: etree._Element, day: date, where: str) -> FeedItem:
    description = element.findtext("description") or ""
    header = _HEADER.match(description)
    paper_id, version = _item_id(element, header, where)
    kind = _item_kind(element, header, where)
    abstract = _ABSTRACT.split(description, maxsplit=1)
    paper = Paper(
        id=paper_id,
        title=text_of(element.find("title")),
        abstract=clean_block(abstract[1]) if len(abstract) == 2 else None,
        authors=_authors(element),
        categories=_categories(element),
        license=text_of(element.find(f"{DC}rights")),
        versions=[PaperVersion(version)],
        listed=[day] if kind in LISTED_KINDS else [],
    )
    return FeedItem(attribute_sources(paper, SOURCE), version, kind)


def _item_id(element: etree._Element, header: re.Match[str] | None, where: str) -> tuple[str, int]:
    guid = text_of(element.find("guid"))
    if guid and guid.lower().startswith(_GUID_PREFIX):
        written = guid[len(_GUID_PREFIX) :]
    elif header:
        written = header["id"]
    else:
        raise IngestError(f"{where}: no arXiv id (guid {guid!r:.60})")
    try:
        paper_id, version = normalize_arxiv_id(written)
    except (IngestError, ValueError):  # ValueError: a version too long for int() to read
        raise IngestError(f"{where}: not an arXiv id: {written!r:.60}") from None
    if version is None and header:  # the description says "arXiv:IDvN" too
        try:
            described_id, version = normalize_arxiv_id(header["id"])
        except (IngestError, ValueError):
            described_id = None
        if described_id != paper_id:
            version = None
    if version is None:
        raise IngestError(f"{where}: no version in the id of {paper_id}")
    if version > MAX_INTEGER:  # no integer column holds it (SQLite past 2^63, PostgreSQL 2^31)
        raise IngestError(
            f"{where}: version {str(version)[:20]} of {paper_id} is no version number"
        )
    return paper_id, version


def _item_kind(element: etree._Element, header: re.Match[str] | None, where: str) -> str:
    kind = text_of(element.find(f"{ARXIV}announce_type")) or (header["kind"] if header else "")
    kind = kind.lower()
    if kind not in KINDS:
        raise IngestError(f"{where}: unknown announce type {kind!r:.40}")
    return kind


def _authors(element: etree._Element) -> list[str]:
    # arXiv writes every author in one dc:creator, joined by commas; some feeds one each.
    return [
        name
        for creator in element.iterfind(f"{DC}creator")
        for name in split_authors(block_of(creator) or "")
    ]


def _categories(element: etree._Element) -> list[str]:
    names = (one_line(category.text) for category in element.iterfind("category"))
    return list(dict.fromkeys(name for name in names if name))  # primary first, once each
