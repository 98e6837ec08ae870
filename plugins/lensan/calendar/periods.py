"""Reporting periods in Asia/Ho_Chi_Minh: ISO weeks, months, half-years, years, and deadlines."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from lensan.settings import LOCAL_TZ

PERIOD_TYPES = ("week", "month", "half_year", "year")
# What each period type is called in the reports (Vietnamese) and in English.
PERIOD_NAMES = {"week": ("tuần", "weekly"), "month": ("tháng", "monthly"),
                "half_year": ("6 tháng", "half-year"), "year": ("năm", "year-end")}
WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
KEY_PATTERNS = {
    "week": WEEK_KEY,
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "half_year": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}


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


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LOCAL_TZ) if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def last_complete_week(moment: dt.datetime) -> str:
    """The latest ISO week that had ended (Sunday 24:00 local) at `moment`.

    DAG runs pass their logical date / data-interval end here, never the wall clock.
    """
    local = _local(moment)
    return week_key(local.date() - dt.timedelta(days=local.isoweekday()))


def month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def half_year_key(day: dt.date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def period_for_run(period_type: str, logical_date: dt.datetime) -> str:
    """The period a scheduled publication run reports on, from its logical date (never the clock).

    - week: the latest complete ISO week (Thursday 2026-11-26 → '2026-W47');
    - month: the month before the run's local month (3 Dec 2026 → '2026-11');
    - half_year: the half-year that has just ended (5 Jul 2026 → '2026-H1', 5 Jan 2027 → '2026-H2');
    - year: December runs report the current year (the 14 December cut-off report), runs in any
      other month the previous year (the final full-year revision in January).
    """
    local = _local(logical_date)
    if period_type == "week":
        return last_complete_week(local)
    if period_type == "month":
        first = local.date().replace(day=1)
        return month_key(first - dt.timedelta(days=1))
    if period_type == "half_year":
        return f"{local.year - 1}-H2" if local.month <= 6 else f"{local.year}-H1"
    if period_type == "year":
        return str(local.year if local.month == 12 else local.year - 1)
    raise ValueError(f"unknown period type {period_type!r} (expected week, month, half_year or year)")


def period_bounds(period_type: str, period_key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period key ('2026-W47', '2026-11', '2026-H1', '2026'); ValueError if malformed."""
    pattern = KEY_PATTERNS.get(period_type)
    if pattern is None:
        raise ValueError(f"unknown period type {period_type!r} (expected one of {', '.join(PERIOD_TYPES)})")
    match = pattern.match(period_key or "")
    if not match:
        raise ValueError(f"not a {period_type} key: {period_key!r}")
    if period_type == "week":
        return week_bounds(period_key)
    year = int(match[1])
    if period_type == "month":
        month = int(match[2])
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    if period_type == "half_year":
        return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if match[2] == "1" else (dt.date(year, 7, 1),
                                                                                    dt.date(year, 12, 31))
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def period_deadline(period_type: str, period_key: str) -> dt.datetime:
    """Same rule as int_calendar__periods (dbt macro period_deadline_sql): week Thursday 14:00 after the week;
    month end of the 3rd day of the next month; half-year 10 days after it; year 15 December (local time)."""
    start, end = period_bounds(period_type, period_key)
    if period_type == "week":
        return weekly_deadline(period_key)
    if period_type == "year":
        day = dt.date(start.year, 12, 15)
    else:
        day = end + dt.timedelta(days=4 if period_type == "month" else 11)
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL_TZ)
