"""The calendar has one rule and two implementations: Python (lensan.calendar.periods, used by the
DAGs and the publication) and SQL (dbt macro `period_deadline_sql` in dbt_project/macros/calendar.sql,
used by int_calendar__periods -> marts.dim_period). Every period of dim_period must have the bounds
and the deadline the Python functions give for its key.

Builds only `+dim_period` (staging views, int_calendar__periods, dim_period) on the session
warehouse. Two information posts (postmart, a file id no landing uses) stretch the data's date
range from ISO week 2020-W53 to the end of 2028 (53-week years, leap years, the 2025 reform); they
are removed and dim_period rebuilt afterwards, so the warehouse is left as it was found.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lensan.calendar.periods import period_bounds, period_deadline, week_bounds, weekly_deadline

pytestmark = pytest.mark.integration

FILE_ID = -1034  # never a landed file (raw.landed_files.file_id is a bigserial)
POSTS = (("CAL-FIRST", "2020-12-31", "31/12/2020 09:00:00"),   # 2020-W53; periods_from (2021-01-01) bounds the months
         ("CAL-LAST", "2028-12-31", "31/12/2028 09:00:00"))    # a Sunday, 2028 a leap year
BUILD = ["build", "--select", "+dim_period", "--indirect-selection", "cautious"]


def _execute(conn, sql: str, params=()) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params)
    conn.commit()


@pytest.fixture(scope="module")
def dim_period(warehouse):
    """The rows of marts.dim_period built over the stretched date range."""
    from lensan.db import warehouse as wh
    from lensan.landing import ensure_raw_schema
    from lensan.transform.dbt import run_dbt

    conn = wh.connect()
    try:
        ensure_raw_schema(conn)
        conn.commit()
        _execute(conn, "delete from raw.postmart_info_posts where file_id = %s", (FILE_ID,))
        for row_number, (post_id, extract_date, posted_at) in enumerate(POSTS, start=1):
            _execute(conn, """insert into raw.postmart_info_posts
                                  (file_id, row_number, extract_date, post_id, category, province_code, posted_at)
                              values (%s, %s, %s, %s, 'calendar-test', '22', %s)""",
                     (FILE_ID, row_number, extract_date, post_id, posted_at))
        try:
            run_dbt(BUILD)
            with conn.cursor() as cur:
                cur.execute("""select period_type, period_key, period_start, period_end, previous_period_key,
                                      deadline_at
                                 from marts.dim_period order by period_type, period_start""")
                rows = cur.fetchall()
            conn.commit()
        finally:
            _execute(conn, "delete from raw.postmart_info_posts where file_id = %s", (FILE_ID,))
            run_dbt(BUILD)
    finally:
        conn.close()
    return rows


def test_dim_period_spans_the_stretched_range(dim_period):
    counts = {}
    for period_type, *_ in dim_period:
        counts[period_type] = counts.get(period_type, 0) + 1
    keys = {(t, k) for t, k, *_ in dim_period}
    assert {("week", "2020-W53"), ("week", "2028-W52"), ("month", "2021-01"), ("month", "2028-12"),
            ("half_year", "2021-H1"), ("half_year", "2028-H2"), ("year", "2021"), ("year", "2028")} <= keys
    assert counts["month"] >= 8 * 12 and counts["half_year"] >= 16 and counts["year"] >= 8
    assert counts["week"] >= 52 * 8


def test_bounds_and_deadlines_agree_with_python(dim_period):
    mismatches = []
    for period_type, key, start, end, previous_key, deadline_at in dim_period:
        expected = {"bounds": period_bounds(period_type, key), "deadline": period_deadline(period_type, key),
                    "previous_end": period_bounds(period_type, previous_key)[1]}
        actual = {"bounds": (start, end), "deadline": deadline_at, "previous_end": start - dt.timedelta(days=1)}
        if period_type == "week":
            assert week_bounds(key) == expected["bounds"] and weekly_deadline(key) == expected["deadline"]
        if actual != expected:
            mismatches.append((period_type, key, actual, expected))
    assert not mismatches, f"{len(mismatches)} periods disagree, e.g. {mismatches[:3]}"


def test_deadlines_are_timezone_aware_instants(dim_period):
    """Compared as instants: the SQL deadline is a timestamptz, the Python one carries Asia/Ho_Chi_Minh."""
    week = next(row for row in dim_period if row[0] == "week" and row[1] == "2026-W47")
    assert week[5].tzinfo is not None
    assert week[5] == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.timezone.utc)   # Thursday 14:00 +07:00
