"""Periods of the daily feed: a day, an ISO week or a month, their keys (2024-01-31,
2024-W05, 2024-01) and addresses, as the pages, feeds and mails name them. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Periods start in these years: four-digit keys, and room for a next day (date.max is 9999-12-31).
FIRST_YEAR, LAST_YEAR = 1000, 9998


class PeriodError(ValueError):
    """A period parameter that is not a day, an ISO week or a month; names the field."""

    def __init__(self, field: str, value: str, expected: str) -> None:
        self.field = field
        super().__init__(f"{field}={value!r} is not {expected}")


@dataclass(frozen=True)
class Period:
    kind: str  # "date", "week" or "month"
    first: date
    last: date

    @property
    def key(self) -> str:
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return self.first.strftime("%Y-%m")
        return self.first.isoformat()

    @property
    def title(self) -> str:
        if self.kind == "week":
            return f"Papers of week {self.key}"
        if self.kind == "month":
            return f"Papers of {self.first:%B %Y}"
        return f"Papers of {self.first:%A, %d %B %Y}"


def period_path(kind: str, key: str) -> str:
    """A period's page: /papers/date/2024-01-31, /papers/week/2024-W05, /papers/month/2024-01."""
    return f"/papers/{kind}/{key}"


def day_period(day: date) -> Period:
    return Period("date", day, day)


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month_period(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following - timedelta(days=1))


PERIOD_OF_KIND = {"date": day_period, "week": week_period, "month": month_period}


def parse_period(date_: str | None, week: str | None, month: str | None) -> Period | None:
    """At most one of the three; None when none is given."""
    given = [
        (name, value)
        for name, value in (("date", date_), ("week", week), ("month", month))
        if value
    ]
    if len(given) > 1:
        raise PeriodError(given[1][0], given[1][1], "allowed together with " + given[0][0])
    if not given:
        return None
    name, value = given[0]
    try:
        first = _first_day(name, value)
    except ValueError:
        expected = {
            "date": "a day like 2024-01-31",
            "week": "a week like 2024-W05",
            "month": "a month like 2024-01",
        }[name]
        raise PeriodError(name, value, expected) from None
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise PeriodError(name, value, f"in the years {FIRST_YEAR} to {LAST_YEAR}")
    return PERIOD_OF_KIND[name](first)


def _first_day(name: str, value: str) -> date:
    if name == "date":
        return date.fromisoformat(value)
    if name == "week":
        match = re.fullmatch(r"(\d{4})-W(\d{2})", value)
        if not match:
            raise ValueError
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        raise ValueError
    return date.fromisoformat(f"{value}-01")
