"""What the DAG files share: DAG ids, the Asset contract between them, start date, default_args and the
periodic publications' table. Imports nothing heavy (DAG files are parsed often)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pendulum

from lensan import settings
from lensan.calendar import periods

TZ = settings.LOCAL_TZ.key      # every schedule is in local time (Asia/Ho_Chi_Minh)
START_DATE = pendulum.datetime(2026, 1, 1, tz=TZ)

# Asset names/URIs: the contract between the DAGs (docs/architecture.md).
RAW_ASSET_NAME = "lensan_raw"
RAW_ASSET_URI = "lensan://warehouse/raw"
MARTS_ASSET_NAME = "lensan_marts"
MARTS_ASSET_URI = "lensan://warehouse/marts"

DAG_INGEST = "lensan_ingest"
DAG_TRANSFORM = "lensan_transform"
DAG_PUBLISH = "lensan_publish_weekly"
DAG_IDS = (DAG_INGEST, DAG_TRANSFORM, DAG_PUBLISH)
DAG_WATCH = "lensan_publication_watch"
WATCH_TASK = "check_weekly_publication"


class PeriodicDag(NamedTuple):
    """One periodic publication DAG (dags/lensan_publish_periodic.py builds one per row)."""
    dag_id: str
    period_type: str
    crons: tuple[str, ...]      # local time
    what: str                   # what a run publishes (doc_md)

    @property
    def key_pattern(self) -> str:
        """JSON-schema pattern of the `period_key` param (the calendar's own key rule)."""
        return periods.KEY_PATTERNS[self.period_type].pattern

    @property
    def noun_vi(self) -> str:
        return NOUNS[self.period_type][0]

    @property
    def noun_en(self) -> str:
        return NOUNS[self.period_type][1]


PERIODIC_DAGS = (
    PeriodicDag("lensan_publish_monthly", "month", ("0 8 3 * *",),
                "the **previous month** (due the 3rd day of the next month), e.g. a run on 3 Dec 2026 → `2026-11`"),
    PeriodicDag("lensan_publish_half_year", "half_year", ("0 8 5 1,7 *",),
                "the **half-year that has just ended** (5 July → `<year>-H1`, 5 January → `<previous year>-H2`)"),
    PeriodicDag("lensan_publish_year_end", "year", ("0 8 14 12 *", "0 8 15 1 *"),
                "the **year-end report** on 14 December (data cut-off, due before 15 December) → the current "
                "year, and the **final full-year revision** on 15 January → the previous year"),
)
NOUNS = {"month": ("tháng", "monthly"), "half_year": ("6 tháng", "half-year"), "year": ("năm", "year-end")}


def default_args() -> dict:
    """default_args shared by every lensan DAG.

    LENSAN_AIRFLOW_RETRIES overrides the number of retries (default 2); `lensan demo` and the
    end-to-end tests set it to 0 so a broken task fails the run at once instead of waiting out the
    retry delay inside `airflow dags test`; LENSAN_AIRFLOW_RETRY_DELAY_S sets that delay (default 300).
    """
    from lensan.orchestration.ops import alert_on_failure  # light: psycopg2 is imported only when it fires

    loaded = settings.load()
    return {
        "owner": "lensan",
        "on_failure_callback": alert_on_failure,
        "retries": loaded.airflow_retries,
        "retry_delay": dt.timedelta(seconds=loaded.airflow_retry_delay_s),
    }
