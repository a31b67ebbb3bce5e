"""arXiv's categories and archives: which exist, which OAI-PMH set holds each, and whether
a paper falls under what a site follows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.oai import SUBJECT_CODES

CATEGORIES = frozenset(SUBJECT_CODES.values())  # cs.LG, hep-th, math.AG, …
ARCHIVES = frozenset(code.split(".")[0] for code in CATEGORIES)  # cs, hep-th, math, …
# OAI-PMH sets are the archives of the arXiv's groups; the physics archives sit under one.
_TOP_LEVEL_SETS = frozenset({"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat"})
NAMED_AT_MOST = 5  # unknown names an error lists: thousands of them made a line of megabytes


def check_follows(names: Iterable[str]) -> list[str]:
    """The names as given (duplicates dropped), or IngestError naming the unknown ones."""
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    unknown = [name for name in chosen if name not in CATEGORIES and name not in ARCHIVES]
    if unknown:
        named = ", ".join(repr(name[:64]) for name in unknown[:NAMED_AT_MOST])
        more = len(unknown) - NAMED_AT_MOST
        raise IngestError(
            f"unknown arXiv categor{'ies' if len(unknown) > 1 else 'y'}: {named}"
            f"{f' and {more:,} more' if more > 0 else ''} (e.g. cs.LG, hep-th, or a "
            "whole archive such as cs; see https://arxiv.org/category_taxonomy)"
        )
    return chosen


def split_follow_setting(text: str) -> list[str]:
    """DAILYPAPERS_FOLLOW: names separated by spaces or commas."""
    return text.replace(",", " ").split()


def oai_set(name: str) -> str:
    """The OAI-PMH set whose records include the category or archive `name`."""
    archive = name.split(".")[0]
    return archive if archive in _TOP_LEVEL_SETS else f"physics:{archive}"


def follows_paper(followed: Sequence[str], categories: Sequence[str]) -> bool:
    """Whether a paper of `categories` falls under a followed category or archive."""
    return any(
        category == name or category.split(".")[0] == name
        for category in categories
        for name in followed
    )
