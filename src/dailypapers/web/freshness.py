"""The daily page's line on arXiv's clock: when the last announcement was stored, and when
the next is expected ("Updated Tue 20:14 EDT · next announcement Wed 20:00 EDT").

Times are shown in US Eastern, as arXiv states its schedule. A page showing the line is
right until `valid_until`: the expected announcement must not stay on a page (the page
cache keeps pages by data version) once its time has passed, nor a weekday alone name a
day more than a few days back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from dailypapers.jobs.schedule import ARXIV_ZONE, next_announcement
from dailypapers.storage.announcements import last_announcement
from dailypapers.storage.follows import followed

WEEKDAY_SPAN = timedelta(days=6)  # a time this close to now is named by its weekday alone


def arxiv_time(moment: datetime, now: datetime) -> str:
    """`moment` in US Eastern: "Tue 20:14 EDT" near `now`, with the date further off."""
    local = moment.astimezone(ARXIV_ZONE)
    if abs(moment - now) < WEEKDAY_SPAN:
        return f"{local:%a %H:%M %Z}"
    return f"{local:%a %Y-%m-%d %H:%M %Z}"


@dataclass(frozen=True)
class Freshness:
    updated_at: datetime  # when the last announcement was stored (UTC)
    next_announcement: datetime | None  # UTC; None while the site follows nothing
    updated_label: str
    next_label: str | None
    valid_until: datetime | None  # None: right for as long as the data stays the same


def freshness(connection: Connection, now: datetime) -> Freshness | None:
    """The line for a page made at `now`; None before the first announcement was stored."""
    last = last_announcement(connection)
    if last is None:
        return None
    stored_at = last[1].astimezone(UTC)
    expected = next_announcement(now).astimezone(UTC) if followed(connection) else None
    limits = [expected] if expected else []
    if abs(stored_at - now) < WEEKDAY_SPAN:
        limits.append(stored_at + WEEKDAY_SPAN)  # then the label gains its date
    return Freshness(
        updated_at=stored_at,
        next_announcement=expected,
        updated_label=arxiv_time(stored_at, now),
        next_label=arxiv_time(expected, now) if expected else None,
        valid_until=min(limits) if limits else None,
    )
