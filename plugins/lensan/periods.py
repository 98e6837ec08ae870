"""Reporting periods in Asia/Ho_Chi_Minh: ISO weeks, months, half-years, years, and deadlines."""

from __future__ import annotations

import datetime as dt
import re

from lensan.config import LOCAL_TZ

WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(key: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week key such as 2026-W47."""
    match = WEEK_KEY.match(key)
    if not match:
        raise ValueError(f"not an ISO week key: {key!r}")
    monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return monday, monday + dt.timedelta(days=6)


def weekly_deadline(key: str) -> dt.datetime:
    """Thursday 14:00 local time of the week after the reported one (appendix 02)."""
    _, sunday = week_bounds(key)
    return dt.datetime.combine(sunday + dt.timedelta(days=4), dt.time(14, 0), tzinfo=LOCAL_TZ)


def week_range(first: str, last: str) -> list[str]:
    start, _ = week_bounds(first)
    end, _ = week_bounds(last)
    keys = []
    while start <= end:
        keys.append(week_key(start))
        start += dt.timedelta(days=7)
    return keys


def last_complete_week(moment: dt.datetime) -> str:
    """The latest ISO week that had ended (Sunday 24:00 local) at `moment`.

    DAG runs pass their logical date / data-interval end here, never the wall clock.
    """
    local = moment.astimezone(LOCAL_TZ) if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
    return week_key(local.date() - dt.timedelta(days=local.isoweekday()))


def month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def half_year_key(day: dt.date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"
