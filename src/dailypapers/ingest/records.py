"""Small conversions every source needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from dailypapers.models import TEXT_FIELDS, Paper, Submission

MAX_INTEGER = 2**31 - 1  # the largest number both databases' integer columns hold


def bounded_int(value: Any, name: str) -> int:
    """A whole number from a record, 0 to MAX_INTEGER (ValueError otherwise): a larger one
    failed the whole import when it was written."""
    number = int(value)
    if not 0 <= number <= MAX_INTEGER:
        raise ValueError(f"field {name!r} is not a number from 0 to {MAX_INTEGER:,}")
    return number


def well_typed(paper: Paper, submission: Submission | None) -> tuple[Paper, Submission | None]:
    """A parsed record, unless a text field holds a number, a list or an object (TypeError):
    the database could not bind one, which failed the whole import."""
    texts = {name: getattr(paper, name) for name in TEXT_FIELDS}
    if submission is not None:
        texts |= {"submitted_by": submission.submitted_by, "source": submission.source}
    for name, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"field {name!r} must be a string")
    for name in ("authors", "categories"):
        if not all(isinstance(item, str) for item in getattr(paper, name)):
            raise TypeError(f"field {name!r} must be a list of strings")
    return paper, submission


def refuse_nul(record: Any) -> Any:
    """The JSON record, unless a string in it holds a NUL (ValueError): PostgreSQL text cannot
    hold one and SQLite can, so such a record is malformed on both (on PostgreSQL it failed
    the whole import instead of being skipped)."""
    if _holds_nul(record):
        raise ValueError("contains a NUL character")
    return record


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


def one_line(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and comments at ~80 columns)."""
    return " ".join(text.split()) if text else ""


def collapse(text: str | None) -> str | None:
    """One line, or None when blank."""
    return " ".join(text.split()) or None if text else None


def clean_block(text: str | None) -> str | None:
    """A multi-line field (an abstract) without its surrounding blank space."""
    if text is None:
        return None
    return text.strip() or None


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def parse_rfc2822(text: str) -> datetime:
    """arXiv's version dates, "Mon, 2 Apr 2007 19:18:42 GMT", as aware UTC datetimes.

    arXiv always writes GMT in this one layout, which is read directly: the general
    parser in `email.utils` took a third of a snapshot import's parsing time.
    """
    try:
        _, day, month, year, clock, zone = text.split()
        hour, minute, second = clock.split(":")
        if zone in ("GMT", "UTC", "+0000"):
            return datetime(
                int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
            )
    except (ValueError, KeyError):
        pass
    moment = parsedate_to_datetime(text)  # any other RFC 2822 form; ValueError when none
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_iso_datetime(text: str) -> datetime:
    """ISO 8601 with or without 'Z'; a naive value is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def split_authors(text: str) -> list[str]:
    """Names from arXiv's one-line author list (arXivRaw, snapshot), without affiliations."""
    names: list[str] = []
    for piece in _AUTHOR_SEPARATOR.split(_drop_parentheses(text)):
        piece = one_line(piece)
        if piece.lower() in _SUFFIXES and names:
            names[-1] = f"{names[-1]} {piece}"  # "John Smith, Jr." is one author
        elif re.search(r"\w", piece):
            names.append(piece)
    return names


def _drop_parentheses(text: str) -> str:
    # Affiliations nest, e.g. "A (1 and 2) ((1) CREST, (2) Kurchatov)", so count depth.
    kept: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)
