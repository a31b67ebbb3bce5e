"""Rate limits counted in the database, so that every worker process and machine shares them.

A limit is a number of requests per fixed window ("5/hour": at most 5 from 14:00 to 15:00).
Each request counts one hit for each of its keys in one atomic upsert; a request over any
of its limits is refused and its hits are rolled back, so refused requests cost nothing and
whoever waits for the window to turn gets through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, delete

from dailypapers.config import PERIODS, RATE_PATTERN
from dailypapers.storage.schema import rate_limit_hits
from dailypapers.storage.store import Store
from dailypapers.storage.upserts import insert_for


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int

    @staticmethod
    @cache
    def parse(text: str) -> Rate:
        """'5/hour' -> Rate(5, 3600)."""
        if not re.fullmatch(RATE_PATTERN, text):
            raise ValueError(f"a rate is COUNT/PERIOD with a period in {', '.join(PERIODS)}")
        count, period = text.split("/")
        return Rate(int(count), PERIODS[period])


@dataclass(frozen=True, slots=True)
class Rule:
    key: str  # what is counted, e.g. "votes/user/12"
    rate: Rate
    reason: str  # one line, shown to whoever is refused


class RateLimited(Exception):
    """Over a limit: `retry_after` seconds until its window turns."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = max(1, math.ceil(retry_after))


def enforce(store: Store, rules: Sequence[Rule], now: float) -> None:
    """Count this request under every rule, or raise RateLimited for the first it breaks
    (counting nothing). Its own transaction, which leaves the data version alone: counts
    change no page."""
    with store.bookkeeping() as connection:
        for rule in rules:
            retry_after = _hit(connection, rule, now)
            if retry_after is not None:
                raise RateLimited(rule.reason, retry_after)  # rolls the hits back


def forget_expired(store: Store, now: float) -> int:
    """Drop the counts of windows that have ended; returns how many."""
    with store.bookkeeping() as connection:
        gone = delete(rate_limit_hits).where(rate_limit_hits.c.expires_at <= int(now))
        return connection.execute(gone).rowcount


def _hit(connection: Connection, rule: Rule, now: float) -> float | None:
    """One more hit of `rule.key` in the current window: None while within the rate, else
    the seconds until the window ends. The upsert locks the row until commit on PostgreSQL
    (and SQLite has one writer), so concurrent requests count one after another."""
    start = int(now) // rule.rate.seconds * rule.rate.seconds
    end = start + rule.rate.seconds
    statement = insert_for(connection.dialect.name, rate_limit_hits).values(
        key=rule.key, window_start=start, expires_at=end, hits=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[rate_limit_hits.c.key, rate_limit_hits.c.window_start],
        set_={"hits": rate_limit_hits.c.hits + 1},
    ).returning(rate_limit_hits.c.hits)
    hits = int(connection.execute(statement).scalar_one())
    if hits == 1:  # a new window: the key's older ones are over
        older = (rate_limit_hits.c.key == rule.key) & (rate_limit_hits.c.window_start < start)
        connection.execute(delete(rate_limit_hits).where(older))
    return None if hits <= rule.rate.count else end - now
