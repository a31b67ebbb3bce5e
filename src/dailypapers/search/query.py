"""The search box's language: free text, "exact phrases", author:, cat:, after:, before:, or
an arXiv id or URL on its own.

Nothing a user types reaches an index as syntax: words are cut out with a regular expression
and queries are built from them, so FTS-style operators are only words here."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

from dailypapers.ingest.arxiv_api import normalize_arxiv_id
from dailypapers.ingest.errors import IngestError

MAX_QUERY_CHARS = 1000
MAX_WORDS = 64  # more words only cost time: BM25 and the encoder gain nothing from them

WORD = re.compile(r"\w+")
# key:value, key:"quoted value", "a phrase" (an unclosed quote runs to the end), or a word.
TOKEN = re.compile(
    r'(?P<key>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S+))|"(?P<phrase>[^"]*)"?'
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# LLM, RLHF, GPT4: short words typed in capitals, which name one thing (not a meaning).
ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,5}")


class QueryError(ValueError):
    """The query cannot be understood; the message is one line for the user."""


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()  # free words, phrases' words included, in the order typed
    phrases: tuple[tuple[str, ...], ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    after: date | None = None
    before: date | None = None
    filters: tuple[str, ...] = field(default=(), compare=False)  # as typed, to show back
    paper_id: str | None = None  # the query is this paper's arXiv id or URL, nothing else

    @property
    def text(self) -> str:
        """What the encoder reads."""
        return " ".join(self.words)

    @property
    def acronyms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for w in self.words if ACRONYM.fullmatch(w)))

    @property
    def filtered(self) -> bool:
        return bool(self.authors or self.categories or self.after or self.before)

    @property
    def empty(self) -> bool:
        return not self.words and not self.filtered


def _day(key: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{key}: takes a date as YYYY-MM-DD, not {value!r}") from None


def parse_query(text: str) -> Query:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long: at most {MAX_QUERY_CHARS} characters")
    text = CONTROL.sub(" ", text)
    with suppress(IngestError):
        return Query(paper_id=normalize_arxiv_id(text)[0])
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    authors: list[str] = []
    categories: list[str] = []
    dates: dict[str, date] = {}
    filters: list[str] = []
    position = 0
    for match in TOKEN.finditer(text):
        words += WORD.findall(text[position : match.start()])
        position = match.end()
        key = (match["key"] or "").lower()
        value = match["quoted"] if match["quoted"] is not None else match["value"]
        if key == "author":
            authors.append(" ".join(WORD.findall(value)))
        elif key == "cat":
            categories.append(value.strip().lower())
        elif key in ("after", "before"):
            dates[key] = _day(key, value.strip())
        elif key:  # not a filter we know: its words are searched for
            words += WORD.findall(match.group(0))
            continue
        else:
            phrase = tuple(WORD.findall(match["phrase"]))
            words += phrase
            if len(phrase) > 1:
                phrases.append(phrase)
            continue
        filters.append(match.group(0))
    words += WORD.findall(text[position:])
    return Query(
        words=tuple(words[:MAX_WORDS]),
        phrases=tuple(phrases),
        authors=tuple(a for a in authors if a),
        categories=tuple(c for c in categories if c),
        after=dates.get("after"),
        before=dates.get("before"),
        filters=tuple(filters),
    )
