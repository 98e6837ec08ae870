"""`lensan run DAG`: one DAG with `airflow dags test`; the three DAGs in a row for `lensan demo` and tests."""

from __future__ import annotations

import datetime as dt
import sys

from lensan import settings

from lensan.calendar import periods
from lensan.cli.args import local_now
from lensan.cli.output import fail, say


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="chạy một DAG bằng `airflow dags test` / run one DAG with `airflow dags test`")
    p.add_argument("dag", help="ingest | transform | publish | <dag_id>")
    p.add_argument("--logical-date", help="ISO date-time (default: now, Asia/Ho_Chi_Minh)")
    p.add_argument("--week", help="publish: report week override")
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_run)


def publish_logical_date(week: str, now: dt.datetime | None = None) -> dt.datetime:
    """A logical date for lensan_publish_weekly whose last complete week is `week`.

    The scheduled slot (Thursday 10:00 after the week) when it has passed, else now: both lie in
    the week after `week`, so `last_complete_week()` gives `week` back.
    """
    now = now or local_now()
    _, sunday = periods.week_bounds(week)
    thursday = dt.datetime.combine(sunday + dt.timedelta(days=4), dt.time(10, 0), tzinfo=settings.LOCAL_TZ)
    moment = thursday if thursday <= now else now
    assert periods.last_complete_week(moment) == week, (week, moment)
    return moment


def run_pipeline(publish_week: str, *, echo: bool = False, start: dt.datetime | None = None,
                 retries: int = 0) -> list:
    """Run the three DAGs for real with `airflow dags test`: ingest → transform → publish.

    Ingest and transform get the current time as logical date (second precision, distinct per
    call); publish gets a logical date inside the week after `publish_week`.
    """
    from lensan.orchestration import config
    from lensan_dev import airflow_harness

    start = start or local_now()
    extra = {"LENSAN_AIRFLOW_RETRIES": str(retries)}
    plan = [
        (config.DAG_INGEST, start),
        (config.DAG_TRANSFORM, start + dt.timedelta(seconds=1)),
        (config.DAG_PUBLISH, publish_logical_date(publish_week, start)),
    ]
    results = []
    for dag_id, logical in plan:
        say(f"▶ Chạy DAG {dag_id} (ngày logic {logical.isoformat()})",
            f"▶ Running DAG {dag_id} (logical date {logical.isoformat()})")
        result = airflow_harness.dags_test(dag_id, logical, extra_env=extra, echo=echo)
        results.append(result)
        if not result.ok:
            detail = result.failures()
            print(detail + "\n--- log tail ---\n" + result.tail(30), file=sys.stderr)
            raise RuntimeError(f"DAG {dag_id} failed (log: {result.log_file})\n{detail}")
        say(f"  ✓ {dag_id} thành công — log: {result.log_file}", f"  ✓ {dag_id} succeeded — log: {result.log_file}")
    return results


def prepare_runtime() -> None:
    """Warehouse up, raw schema, dbt profile + manifest (needed when Airflow parses the DAGs), Airflow db."""
    from lensan import landing
    from lensan.transform import manifest as dbt_manifest
    from lensan_dev import airflow_harness

    landing.ensure_raw_schema()
    dbt_manifest.install_manifest()
    airflow_harness.ensure_airflow_db()


def cmd_run(args) -> int:
    from lensan.orchestration import config
    from lensan_dev import airflow_harness

    dag_id = {"ingest": config.DAG_INGEST, "transform": config.DAG_TRANSFORM,
              "publish": config.DAG_PUBLISH}.get(args.dag, args.dag)
    prepare_runtime()
    logical = dt.datetime.fromisoformat(args.logical_date) if args.logical_date else local_now()
    if logical.tzinfo is None:
        logical = logical.replace(tzinfo=settings.LOCAL_TZ)
    conf = {"week_key": args.week} if args.week else None
    result = airflow_harness.dags_test(dag_id, logical, conf=conf,
                                       extra_env={"LENSAN_AIRFLOW_RETRIES": str(args.retries)}, echo=args.verbose)
    if result.ok:
        say(f"DAG {dag_id} thành công. Log: {result.log_file}", f"DAG {dag_id} succeeded. Log: {result.log_file}")
        return 0
    print(result.failures() + "\n--- log tail ---\n" + result.tail(30), file=sys.stderr)
    return fail(f"DAG {dag_id} thất bại. Log: {result.log_file}", f"DAG {dag_id} failed. Log: {result.log_file}")
