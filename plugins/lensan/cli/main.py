"""The `lensan` command: demo, sample data, landing, checks, status, publication, warehouse.

Messages meant for people are given in Vietnamese and English. Heavy modules (Airflow, dbt, GX,
pandas) are imported inside the commands that need them, so `lensan check` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import sys
from pathlib import Path

from lensan import settings

from lensan.calendar import periods
from lensan.orchestration.ops import to_jsonable

DEMO_PROVINCES = ("22", "92")  # post-reform Quảng Ninh and Cần Thơ
DEMO_WEEKS = 4


def say(vi: str, en: str, *, file=None) -> None:
    """One message for people, Vietnamese first, then English."""
    print(f"{vi}\n  ({en})", file=file or sys.stdout, flush=True)


def fail(vi: str, en: str, code: int = 1) -> int:
    say("LỖI: " + vi, "ERROR: " + en, file=sys.stderr)
    return code


def _now() -> dt.datetime:
    return dt.datetime.now(tz=settings.LOCAL_TZ).replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# weeks and provinces
# ---------------------------------------------------------------------------------------------

def latest_complete_weeks(count: int, moment: dt.datetime | None = None) -> list[str]:
    last = periods.last_complete_week(moment or _now())
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


# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------

def _call_generate(provinces: list[str], weeks: list[str], seed: int, late: int | None = None,
                   missing: int | None = None, quiet: bool = False):
    from lensan_dev import generate as gen

    return gen.generate(provinces, weeks, seed=seed, late_units=late or 0, missing_units=missing or 0,
                        progress=None if quiet else (lambda message: print(f"  {message}", flush=True)))


def _generate_national(args) -> int:
    from lensan_dev.generate_scale import generate_national

    weeks = parse_weeks(args.weeks, args.last or 1)
    provinces = parse_provinces(args.provinces) if args.provinces else None
    for week in weeks:
        summary = generate_national(args.scale, week, seed=args.seed, provinces=provinces,
                                    progress=lambda p: print(f"  {p}", flush=True))
        say(f"Đã tạo tuần {week} toàn quốc (hệ số {args.scale:g}): {sum(summary.rows_by_entity.values()):,} dòng "
            f"vào {settings.landing_dir()}",
            f"Generated the national week {week} (scale {args.scale:g}): "
            f"{sum(summary.rows_by_entity.values()):,} rows into {settings.landing_dir()}")
    return 0


def cmd_generate(args) -> int:
    if args.scale is not None:
        return _generate_national(args)
    provinces = parse_provinces(args.provinces)
    weeks = parse_weeks(args.weeks, args.last)
    summary = _call_generate(provinces, weeks, args.seed, args.late, args.missing)
    say(f"Đã tạo dữ liệu mẫu cho tỉnh {', '.join(provinces)}, tuần {weeks[0]}..{weeks[-1]} "
        f"vào {settings.landing_dir()}",
        f"Generated sample data for provinces {', '.join(provinces)}, weeks {weeks[0]}..{weeks[-1]} "
        f"into {settings.landing_dir()}")
    if summary is not None:
        data = to_jsonable(summary)
        data.pop("paths", None)
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


def _ensure_raw_schema() -> None:
    from lensan import landing

    landing.ensure_raw_schema()


def cmd_land(args) -> int:
    from lensan import landing

    unknown = [s for s in args.sources if s not in settings.SOURCES]
    if unknown:
        return fail(f"Nguồn không hợp lệ: {unknown}", f"Unknown sources: {unknown} (use {settings.SOURCES})", 2)
    _ensure_raw_schema()
    summary = to_jsonable(landing.land_pending(args.sources or None,
                                               progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True)))
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    say("Đã nhận xong các file trong thư mục landing.", "Landing finished.")
    return 0


def cmd_check(args) -> int:
    from lensan import landing

    path = Path(args.file)
    if not path.exists():
        return fail(f"Không tìm thấy file {path}", f"File not found: {path}", 2)
    result = landing.check_file(path)
    if result.ok:
        say(f"OK — {path.name} hợp lệ, có thể gửi.", f"OK — {path.name} is valid and can be delivered.")
        return 0
    code = getattr(result, "code", "") or ""
    say(f"KHÔNG HỢP LỆ [{code}]: {result.message_vi}", f"INVALID [{code}]: {result.message_en}")
    detail = getattr(result, "detail", None)
    if detail:
        print(f"  {detail}")
    return 1


def cmd_publish(args) -> int:
    from lensan.quality import gate
    from lensan.publish import service as publish

    week = args.week or periods.last_complete_week(_now())
    periods.week_bounds(week)
    _ensure_raw_schema()
    gate_summary = None
    if not args.skip_gate:
        try:
            gate_summary = gate.run_checkpoint("marts", {"week_key": week})
        except gate.GateFailed as exc:
            return fail(f"Dừng công bố tuần {week}: cổng chất lượng không đạt: {exc}",
                        f"Publication of {week} stopped: quality gate failed: {exc}")
    summary = publish.publish_weekly(week, gate_summary=gate_summary)
    print(json.dumps(to_jsonable(summary), ensure_ascii=False, indent=2, default=str)[:8000])
    say(f"Đã công bố báo cáo tuần {week} vào {settings.home_dir('exports')}",
        f"Published the weekly report {week} into {settings.home_dir('exports')}")
    return 0


def cmd_warehouse(args) -> int:
    from lensan.db import warehouse

    if args.action == "start":
        info = warehouse.connection_info()
        say(f"Kho dữ liệu đang chạy: {_redact(info.url)}", f"Warehouse running: {_redact(info.url)}")
    elif args.action == "stop":
        if settings.external_warehouse_url():
            say("Kho dữ liệu ngoài (LENSAN_WAREHOUSE_URL): không dừng.",
                "External warehouse (LENSAN_WAREHOUSE_URL): not stopped.")
        elif warehouse.stop_embedded():
            say("Đã dừng kho dữ liệu nhúng.", "Embedded warehouse stopped.")
        else:
            say("Kho dữ liệu nhúng không chạy.", "Embedded warehouse was not running.")
    else:
        print(warehouse.warehouse_url() if args.show_password else _redact(warehouse.warehouse_url()))
    return 0


def _redact(url: str) -> str:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


def cmd_dbt_manifest(args) -> int:
    from lensan.orchestration import airflow_env

    path = airflow_env.install_manifest()
    say(f"Manifest dbt cho Cosmos: {path}", f"dbt manifest for Cosmos: {path}")
    return 0


# --- status ----------------------------------------------------------------------------------

def _query(conn, sql: str, params=()) -> list[tuple] | None:
    """Rows of a query, or None when the relation does not exist (yet)."""
    import psycopg2

    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    except psycopg2.Error:
        conn.rollback()
        return None


def _table_exists(conn, qualified: str) -> bool:
    rows = _query(conn, "select to_regclass(%s) is not null", (qualified,))
    return bool(rows and rows[0][0])


def status_report(limit: int = 20) -> dict:
    """Everything `lensan status` shows, as a dict (also used by tests)."""
    from lensan.db import warehouse

    report: dict = {"lensan_home": str(settings.lensan_home()), "warehouse": _redact(warehouse.warehouse_url())}
    conn = warehouse.connect()
    try:
        if _table_exists(conn, "raw.landed_files"):
            report["landed"] = [
                {"source": s, "status": st, "files": n, "rows": r}
                for s, st, n, r in _query(conn, "select source, status, count(*), coalesce(sum(row_count), 0) "
                                                "from raw.landed_files group by 1, 2 order by 1, 2") or []
            ]
            report["quarantined"] = [
                {"file": name, "source": s, "code": code, "reason_vi": vi, "reason_en": en, "arrived_at": str(at)}
                for name, s, code, vi, en, at in _query(
                    conn, "select original_name, source, reason_code, reason_vi, reason_en, arrived_at "
                          "from raw.landed_files where status = 'quarantined' order by file_id desc limit %s",
                    (limit,)) or []
            ]
        else:
            report["landed"], report["quarantined"] = [], []
        report["publications"] = [
            {"period": f"{ptype} {pkey}", "scopes": n, "max_revision": rev, "gate": gate,
             "last_published_at": str(at)}
            for ptype, pkey, n, rev, gate, at in _query(
                conn, "select period_type, period_key, count(distinct (scope_level, scope_code)), max(revision), "
                      "string_agg(distinct gate_status, ','), max(created_at) from ops.publications "
                      "group by 1, 2 order by 2 desc limit %s", (limit,)) or []
        ] if _table_exists(conn, "ops.publications") else []
        report["gate_results"] = [
            {"checkpoint": cp, "period": pk or "latest", "status": st, "errors": fe, "warnings": fw,
             "recorded_at": str(at)}
            for cp, pk, st, fe, fw, at in _query(
                conn, "select checkpoint, period_key, status, failed_error, failed_warning, recorded_at "
                      "from ops.gate_results order by recorded_at desc limit %s", (limit,)) or []
        ] if _table_exists(conn, "ops.gate_results") else []
        if _table_exists(conn, "ops.run_log"):
            from lensan.orchestration import ops

            report["last_runs"] = ops.last_runs(conn, limit)
            report["alerts"] = ops.recent_alerts(conn, limit)
        else:
            report["last_runs"], report["alerts"] = [], []
    finally:
        conn.close()
    week_root = settings.home_dir("exports") / "week"
    report["exports"] = [str(p) for p in sorted(week_root.glob("*/index.json"))][-limit:]
    report["data_docs"] = _data_docs_path()
    return report


def _data_docs_path() -> str | None:
    candidates = [settings.GX_PROJECT_DIR / "uncommitted" / "data_docs" / "local_site" / "index.html",
                  settings.lensan_home() / "data_docs" / "index.html"]
    candidates += sorted(settings.lensan_home().glob("**/data_docs/**/index.html"))[:1]
    for path in candidates:
        if path.exists():
            return str(path)
    return None


def cmd_status(args) -> int:
    report = status_report(args.limit)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"LENSAN_HOME: {report['lensan_home']}\nKho dữ liệu / warehouse: {report['warehouse']}\n")
    say("Đã nhận (theo nguồn, trạng thái):", "Landed (by source, status):")
    for row in report["landed"] or [{"source": "-", "status": "-", "files": 0, "rows": 0}]:
        print(f"  {row['source']:<20} {row['status']:<12} {row['files']:>6} files {row['rows']:>9} rows")
    say("\nFile bị cách ly và lý do:", "Quarantined files and reasons:")
    for row in report["quarantined"]:
        print(f"  {row['file']} [{row['code']}]\n    vi: {row['reason_vi']}\n    en: {row['reason_en']}")
    if not report["quarantined"]:
        print("  (không có / none)")
    say("\nĐã công bố:", "Published:")
    for row in report["publications"]:
        print(f"  {row['period']}: {row['scopes']} phạm vi/scopes, bản sửa đổi tối đa/max revision "
              f"{row['max_revision']}, cổng/gate {row['gate']}, {row['last_published_at']}")
    for path in report["exports"]:
        print(f"  {path}")
    if not report["publications"] and not report["exports"]:
        print("  (chưa có / none yet)")
    say("\nKết quả cổng chất lượng:", "Quality gate results:")
    for row in report["gate_results"]:
        print(f"  {row['recorded_at']}  {row['checkpoint']:<20} {row['period']:<10} {row['status']:<8} "
              f"lỗi/errors {row['errors']}, cảnh báo/warnings {row['warnings']}")
    if not report["gate_results"]:
        print("  (chưa có / none yet)")
    say("\nLần chạy gần nhất (DAG.task):", "Last runs (DAG.task):")
    for row in report["last_runs"]:
        print(f"  {row['recorded_at']}  {row['dag_id']}.{row['task_id']:<22} {row['status']:<8} "
              f"{json.dumps(row['summary'], ensure_ascii=False, default=str)[:160]}")
    if not report["last_runs"]:
        print("  (chưa có / none yet)")
    say("\nCảnh báo (tác vụ lỗi):", "Alerts (failed tasks):")
    for row in report["alerts"]:
        print(f"  {row['created_at']}  {row['dag_id']}.{row['task_id']} try {row['try_number']}: "
              f"{row['exception_class']}: {(row['message'] or '')[:200]!r}")
    if not report["alerts"]:
        print("  (không có / none)")
    say(f"\nData Docs: {report['data_docs'] or '(chưa tạo)'}",
        f"Data Docs: {report['data_docs'] or '(not built yet)'}")
    return 0


# --- Airflow runs ------------------------------------------------------------------------------

def publish_logical_date(week: str, now: dt.datetime | None = None) -> dt.datetime:
    """A logical date for lensan_publish_weekly whose last complete week is `week`.

    The scheduled slot (Thursday 10:00 after the week) when it has passed, else now: both lie in
    the week after `week`, so `last_complete_week()` gives `week` back.
    """
    now = now or _now()
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
    from lensan.orchestration import airflow_env

    start = start or _now()
    extra = {"LENSAN_AIRFLOW_RETRIES": str(retries)}
    plan = [
        (airflow_env.DAG_INGEST, start),
        (airflow_env.DAG_TRANSFORM, start + dt.timedelta(seconds=1)),
        (airflow_env.DAG_PUBLISH, publish_logical_date(publish_week, start)),
    ]
    results = []
    for dag_id, logical in plan:
        say(f"▶ Chạy DAG {dag_id} (ngày logic {logical.isoformat()})",
            f"▶ Running DAG {dag_id} (logical date {logical.isoformat()})")
        result = airflow_env.dags_test(dag_id, logical, extra_env=extra, echo=echo)
        results.append(result)
        if not result.ok:
            detail = result.failures()
            print(detail + "\n--- log tail ---\n" + result.tail(30), file=sys.stderr)
            raise RuntimeError(f"DAG {dag_id} failed (log: {result.log_file})\n{detail}")
        say(f"  ✓ {dag_id} thành công — log: {result.log_file}", f"  ✓ {dag_id} succeeded — log: {result.log_file}")
    return results


def prepare_runtime() -> None:
    """Warehouse up, raw schema, dbt profile + manifest (needed when Airflow parses the DAGs), Airflow db."""
    from lensan.orchestration import airflow_env

    _ensure_raw_schema()
    airflow_env.install_manifest()
    airflow_env.ensure_airflow_db()


def cmd_run(args) -> int:
    from lensan.orchestration import airflow_env

    dag_id = {"ingest": airflow_env.DAG_INGEST, "transform": airflow_env.DAG_TRANSFORM,
              "publish": airflow_env.DAG_PUBLISH}.get(args.dag, args.dag)
    prepare_runtime()
    logical = dt.datetime.fromisoformat(args.logical_date) if args.logical_date else _now()
    if logical.tzinfo is None:
        logical = logical.replace(tzinfo=settings.LOCAL_TZ)
    conf = {"week_key": args.week} if args.week else None
    result = airflow_env.dags_test(dag_id, logical, conf=conf,
                                   extra_env={"LENSAN_AIRFLOW_RETRIES": str(args.retries)}, echo=args.verbose)
    if result.ok:
        say(f"DAG {dag_id} thành công. Log: {result.log_file}", f"DAG {dag_id} succeeded. Log: {result.log_file}")
        return 0
    print(result.failures() + "\n--- log tail ---\n" + result.tail(30), file=sys.stderr)
    return fail(f"DAG {dag_id} thất bại. Log: {result.log_file}", f"DAG {dag_id} failed. Log: {result.log_file}")


def cmd_demo(args) -> int:
    now = _now()
    provinces = parse_provinces(args.provinces)
    weeks = latest_complete_weeks(args.weeks, now)
    say(f"lensan demo — LENSAN_HOME={settings.lensan_home()}", f"lensan demo — LENSAN_HOME={settings.lensan_home()}")
    say(f"1/4 Tạo dữ liệu mẫu: tỉnh {', '.join(provinces)}, tuần {weeks[0]}..{weeks[-1]}",
        f"1/4 Generating sample data: provinces {', '.join(provinces)}, weeks {weeks[0]}..{weeks[-1]}")
    _call_generate(provinces, weeks, args.seed)
    say("2/4 Khởi động kho dữ liệu, dbt manifest, Airflow (SQLite)",
        "2/4 Starting the warehouse, dbt manifest, Airflow (SQLite metadata)")
    prepare_runtime()
    say("3/4 Chạy 3 DAG thật bằng `airflow dags test`", "3/4 Running the three DAGs with `airflow dags test`")
    try:
        run_pipeline(weeks[-1], echo=args.verbose, start=now)
    except RuntimeError as exc:
        return fail(f"Demo dừng: {exc}", f"Demo stopped: {exc}")
    say(f"4/4 Báo cáo tuần {weeks[-1]}:", f"4/4 Weekly report {weeks[-1]}:")
    exports = settings.home_dir("exports")
    week_dir = exports / "week" / weeks[-1]
    for scope in [*(f"province-{p}" for p in provinces), "nation-VN"]:
        revisions = sorted(week_dir.glob(f"{scope}/rev-*"), key=lambda p: int(p.name.split("-")[-1]))
        if not revisions:
            say(f"  {scope}: chưa có báo cáo", f"  {scope}: no report")
            continue
        for path in sorted(revisions[-1].iterdir()):
            print(f"  {path}")
    others = len([p for p in week_dir.iterdir() if p.is_dir()]) - len(provinces) - 1 if week_dir.exists() else 0
    if (week_dir / "index.json").exists():
        say(f"  Mục lục (cả {others} phạm vi khác: vùng, tỉnh): {week_dir / 'index.json'}",
            f"  Index (also {others} other scopes: regions, provinces): {week_dir / 'index.json'}")
    say(f"Tất cả báo cáo: {exports}\nTrạng thái: `lensan status`",
        f"All reports: {exports}\nStatus: `lensan status`")
    return 0


# ---------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lensan",
        description="lensan — kho dữ liệu giám sát Chương trình 1034 / Programme 1034 monitoring warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="dữ liệu mẫu + chạy 3 DAG / sample data + run the three DAGs")
    p.add_argument("--provinces", action="append", help="mã tỉnh / province codes (default 22,92)")
    p.add_argument("--weeks", type=int, default=DEMO_WEEKS, help="số tuần hoàn chỉnh gần nhất / latest complete weeks")
    p.add_argument("--seed", type=int, default=1034)
    p.add_argument("-v", "--verbose", action="store_true", help="hiện log Airflow / show Airflow output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("generate", help="tạo file mẫu vào landing/ / write sample files into landing/")
    p.add_argument("--provinces", action="append", help="e.g. 22,92 (default)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--weeks", help="2026-W44..2026-W47 or 2026-W47 or a,b,c")
    group.add_argument("--last", type=int, help="the last N complete weeks (default 4)")
    p.add_argument("--seed", type=int, default=1034)
    p.add_argument("--late", type=int, help="số đơn vị nộp muộn mỗi tuần / units per week delivering their form late")
    p.add_argument("--missing", type=int, help="số đơn vị không nộp tuần cuối / units sending no form for the last week")
    p.add_argument("--scale", type=float,
                   help="tuần toàn quốc, ~N triệu đơn hàng (bản đồ sau sáp nhập) / a national week of ~N million "
                        "orders (post-reform map; --provinces restricts it)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("land", help="nhận các file đang chờ / land the pending files")
    p.add_argument("sources", nargs="*", help=f"only these sources ({', '.join(settings.SOURCES)})")
    p.set_defaults(func=cmd_land)

    p = sub.add_parser("check", help="kiểm tra một file trước khi gửi / check one file before delivering it")
    p.add_argument("file")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("status", help="tình trạng / what landed, quarantined, published, gates")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("publish", help="kiểm tra + công bố một tuần / gate and publish one week")
    p.add_argument("--week", help="e.g. 2026-W47 (default: the latest complete week)")
    p.add_argument("--skip-gate", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("warehouse", help="kho dữ liệu nhúng / the embedded warehouse")
    p.add_argument("action", choices=["start", "stop", "url"])
    p.add_argument("--show-password", action="store_true", help="url: print the password too")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("run", help="chạy một DAG bằng `airflow dags test` / run one DAG with `airflow dags test`")
    p.add_argument("dag", help="ingest | transform | publish | <dag_id>")
    p.add_argument("--logical-date", help="ISO date-time (default: now, Asia/Ho_Chi_Minh)")
    p.add_argument("--week", help="publish: report week override")
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("dbt-manifest", help="tạo dbt manifest cho Cosmos / write the dbt manifest Cosmos renders")
    p.set_defaults(func=cmd_dbt_manifest)

    # dispatched in main() before parsing: its options are bench/run's (`lensan bench --help`)
    sub.add_parser("bench", help="đo hiệu năng, như bench/run / the benchmark, same as bench/run")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:   # its options (--help included) are bench/run's own
        from lensan_dev import bench

        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
