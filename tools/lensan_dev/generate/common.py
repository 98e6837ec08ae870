"""Seeded randomness, local times and the decimal comma, shared by the generator's modules."""

from __future__ import annotations

import datetime as dt
import random

from lensan import settings

from lensan.calendar import periods

UTC = dt.timezone.utc
LOCAL_TZ = settings.LOCAL_TZ


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream for one purpose (str seeds hash with SHA-512)."""
    return random.Random("|".join([str(seed), *map(str, parts)]))


def local_time(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    """A wall-clock time in Vietnam."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL_TZ)


def rand_time(rng: random.Random, day: dt.date, start_h: int = 6, end_h: int = 22) -> dt.datetime:
    return local_time(day, rng.randint(start_h, end_h), rng.randint(0, 59), rng.randint(0, 59))


def clip_day(moment: dt.datetime, day: dt.date | None = None) -> dt.datetime:
    """`moment`, but no later than 23:59:59 local of `day` (default: the local day of `moment`)."""
    day = day or moment.astimezone(LOCAL_TZ).date()
    return min(moment, local_time(day, 23, 59, 59))


def days_of_week(week: str) -> list[dt.date]:
    """Monday..Sunday of an ISO week key."""
    monday, _ = periods.week_bounds(week)
    return [monday + dt.timedelta(days=i) for i in range(7)]


def pm_decimal(value: float) -> str:
    """A decimal as postmart writes it (and people type it): comma, no trailing zeros (2,5)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
