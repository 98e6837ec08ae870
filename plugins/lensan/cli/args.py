"""Arguments shared by the commands: the current time, week and province lists."""

from __future__ import annotations

import datetime as dt

from lensan import settings

from lensan.calendar import periods

DEMO_PROVINCES = ("22", "92")  # post-reform Quảng Ninh and Cần Thơ
DEMO_WEEKS = 4


def local_now() -> dt.datetime:
    """The current local time, to the second."""
    return dt.datetime.now(tz=settings.LOCAL_TZ).replace(microsecond=0)


def latest_complete_weeks(count: int, moment: dt.datetime | None = None) -> list[str]:
    last = periods.last_complete_week(moment or local_now())
    monday, _ = periods.week_bounds(last)
    first = periods.week_key(monday - dt.timedelta(days=7 * (count - 1)))
    return periods.week_range(first, last)


def parse_weeks(spec: str | None, last: int | None) -> list[str]:
    """`2026-W44..2026-W47`, `2026-W47`, `2026-W44,2026-W46`, or the last N complete weeks."""
    if spec:
        keys: list[str] = []
        for part in spec.split(","):
            part = part.strip()
            if ".." in part:
                first, final = (p.strip() for p in part.split("..", 1))
                periods.week_bounds(first), periods.week_bounds(final)
                keys += periods.week_range(first, final)
            elif part:
                periods.week_bounds(part)
                keys.append(part)
        return sorted(dict.fromkeys(keys))
    return latest_complete_weeks(last or DEMO_WEEKS)


def parse_provinces(values: list[str] | None) -> list[str]:
    codes: list[str] = []
    for value in values or list(DEMO_PROVINCES):
        codes += [c.strip().zfill(2) for c in value.split(",") if c.strip()]
    return list(dict.fromkeys(codes))
