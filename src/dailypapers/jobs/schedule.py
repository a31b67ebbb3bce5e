"""arXiv's published announcement clock, and how long to wait before trying again.

All of it is pure, over aware datetimes, in arXiv's own time zone (US Eastern, with its
daylight-saving changes). arXiv announces new submissions Sunday to Thursday at 20:00;
the listing that announcement makes is dated the next calendar day (the Thursday
announcement is Friday's listing, the Sunday one Monday's). Submissions close at 14:00
Monday to Friday: a submission is announced at the first announcement after the
cut-off that follows it. The schedule knows no holidays: around them arXiv shifts its
days, and what is computed here is then a day or two early.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ARXIV_ZONE = ZoneInfo("America/New_York")
ANNOUNCEMENT_TIME = time(20, 0)
ANNOUNCEMENT_WEEKDAYS = frozenset({6, 0, 1, 2, 3})  # Sunday to Thursday (Monday is 0)
CUTOFF_TIME = time(14, 0)
CUTOFF_WEEKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday to Friday

FIRST_RETRY_S = 60.0
MAX_BACKOFF_S = 1800.0
MAX_RETRY_AFTER_S = 3600.0


def _eastern(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, not {moment.isoformat()}")
    return moment.astimezone(ARXIV_ZONE)


def _at(day: date, clock: time) -> datetime:
    # 14:00 and 20:00 are never skipped nor repeated by a daylight-saving change (02:00).
    return datetime.combine(day, clock, tzinfo=ARXIV_ZONE)


def _latest(now: datetime, clock: time, weekdays: frozenset[int]) -> datetime:
    """The last `clock` on one of `weekdays` at or before `now`, in US Eastern."""
    day = _eastern(now).date()
    for back in range(8):
        candidate = _at(day - timedelta(days=back), clock)
        if candidate.weekday() in weekdays and candidate <= now:
            return candidate
    raise AssertionError("unreachable: every week has such a day")


def _next(now: datetime, clock: time, weekdays: frozenset[int]) -> datetime:
    """The first `clock` on one of `weekdays` strictly after `now`, in US Eastern."""
    day = _eastern(now).date()
    for ahead in range(8):
        candidate = _at(day + timedelta(days=ahead), clock)
        if candidate.weekday() in weekdays and candidate > now:
            return candidate
    raise AssertionError("unreachable: every week has such a day")


def latest_announcement(now: datetime) -> datetime:
    """The last scheduled announcement at or before `now` (US Eastern)."""
    return _latest(now, ANNOUNCEMENT_TIME, ANNOUNCEMENT_WEEKDAYS)


def next_announcement(now: datetime) -> datetime:
    """The first scheduled announcement strictly after `now` (US Eastern)."""
    return _next(now, ANNOUNCEMENT_TIME, ANNOUNCEMENT_WEEKDAYS)


def listing_day(announcement: datetime) -> date:
    """The day of the listing an announcement makes: the next calendar day in US Eastern
    (the channel `pubDate` of the feed it fills)."""
    return _eastern(announcement).date() + timedelta(days=1)


def next_cutoff(submitted: datetime) -> datetime:
    """The submission deadline a submission made at `submitted` falls under: the first
    14:00 US Eastern, Monday to Friday, strictly after it (14:00 itself is too late)."""
    return _next(submitted, CUTOFF_TIME, CUTOFF_WEEKDAYS)


def listing_day_of_submission(v1: datetime) -> date:
    """The listing day of a paper whose first version was submitted at `v1`, by arXiv's
    published schedule. Approximate: it knows no holidays, nor papers that arXiv holds
    for moderation, which are listed later than this says."""
    # The Monday-to-Thursday cut-offs are announced that evening, Friday's on Sunday.
    return listing_day(next_announcement(next_cutoff(v1)))


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait before the next try after `attempts` failed ones: 60 s, doubling
    with each failure, at most 30 minutes; never less than a `Retry-After` the server
    gave (itself taken as at most an hour)."""
    failures = max(attempts, 1)
    delay = (
        MAX_BACKOFF_S if failures > 16 else min(FIRST_RETRY_S * 2 ** (failures - 1), MAX_BACKOFF_S)
    )
    if retry_after is not None and retry_after == retry_after:  # NaN says nothing
        delay = max(delay, min(max(retry_after, 0.0), MAX_RETRY_AFTER_S))
    return delay
