"""`lensan status`: what landed, what was quarantined and why, publications, gates, runs, alerts."""

from __future__ import annotations

import json
from pathlib import Path

from lensan import settings

from lensan.cli.output import redact, say


def add_parser(sub) -> None:
    p = sub.add_parser("status", help="tình trạng / what landed, quarantined, published, gates")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_status)


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

    report: dict = {"lensan_home": str(settings.lensan_home()), "warehouse": redact(warehouse.warehouse_url())}
    conn = warehouse.connect()
    try:
        if _table_exists(conn, "raw.landed_files"):
            report["landed"] = [
                {"source": s, "status": st, "files": n, "rows": r}
                for s, st, n, r in _query(conn, "select source, case when withdrawn_at is not null then 'withdrawn' "
                                                "else status end, count(*), coalesce(sum(row_count), 0) "
                                                "from raw.landed_files group by 1, 2 order by 1, 2") or []
            ]
            withdrawn = _query(conn, "select public_name, archive_dir, source, sha256, withdrawn_at, "
                                     "withdrawn_reason, count(*) over () from raw.landed_files "
                                     "where withdrawn_at is not null "
                                     "order by withdrawn_at desc limit %s", (limit,)) or []
            report["withdrawn"] = [{"file": _delivered_name(folder, sha) or public, "public_name": public,
                                    "source": s, "sha256": sha, "withdrawn_at": str(at), "reason": why}
                                   for public, folder, s, sha, at, why, _ in withdrawn]
            report["withdrawn_total"] = withdrawn[0][6] if withdrawn else 0
        else:
            report["landed"], report["withdrawn"], report["withdrawn_total"] = [], [], 0
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
    report["quarantined"], report["quarantined_total"] = quarantined_files(limit)
    report["waiting"], report["waiting_total"] = waiting_files(limit)
    week_root = settings.home_dir("exports") / "week"
    report["exports"] = [str(p) for p in sorted(week_root.glob("*/index.json"))][-limit:]
    report["data_docs"] = _data_docs_path()
    return report


def _delivered_name(folder: str, sha: str) -> str | None:
    """The name a landed file was delivered under, read from its archive copy's name (the warehouse keeps
    none): shown on this console only."""
    from lensan.landing import archive

    copy = archive.kept_copy(Path(folder), sha)
    return archive.delivered_name(copy, sha) if copy is not None else None


def quarantined_files(limit: int) -> tuple[list[dict], int]:
    """The files in quarantine/ (newest first, at most `limit`) with their reason, when they were
    quarantined and where they are, and how many there are in all."""
    from lensan.landing.quarantine import REASON_SUFFIX

    root = settings.lensan_home() / "quarantine"
    reasons = sorted(root.glob(f"*/*{REASON_SUFFIX}"), key=lambda p: _mtime(p), reverse=True) \
        if root.is_dir() else []
    rows = []
    for reason_path in reasons[:limit]:
        try:
            reason = json.loads(reason_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            reason = {}
        kept = reason_path.with_name(reason_path.name[:-len(REASON_SUFFIX)])
        rows.append({"file": reason.get("file") or kept.name, "source": reason.get("source") or kept.parent.name,
                     "code": reason.get("code"), "reason_vi": reason.get("message_vi"),
                     "reason_en": reason.get("message_en"), "quarantined_at": reason.get("quarantined_at"),
                     "arrived_at": _iso_mtime(kept),
                     "path": str(kept) if kept.exists() else None, "reason_file": str(reason_path)})
    return rows, len(reasons)


def waiting_files(limit: int) -> tuple[list[dict], int]:
    """The files still waiting in landing/ (oldest first, at most `limit`) and how many there are: those
    of each source folder, and any put in landing/ itself, which no run takes."""
    from lensan.landing.loader import pending_files

    landing = settings.lensan_home() / "landing"
    found: list[tuple[str, Path]] = []
    for source in settings.SOURCES:
        if (landing / source).is_dir():
            found += [(source, p) for p in pending_files(source)]
    if landing.is_dir():
        found += [("-", p) for p in landing.iterdir() if p.is_file() and not p.name.startswith(".")]
    found.sort(key=lambda item: _mtime(item[1]))
    return [{"source": source, "file": path.name, "path": str(path), "arrived_at": _iso_mtime(path),
             "in_source_folder": source != "-"} for source, path in found[:limit]], len(found)


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _iso_mtime(path: Path) -> str | None:
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(path.lstat().st_mtime, tz=settings.LOCAL_TZ).isoformat(timespec="seconds")
    except OSError:
        return None


def _data_docs_path() -> str | None:
    candidates = [settings.GX_PROJECT_DIR / "uncommitted" / "data_docs" / "local_site" / "index.html",
                  settings.lensan_home() / "data_docs" / "index.html"]
    candidates += sorted(settings.lensan_home().glob("**/data_docs/**/index.html"))[:1]
    for path in candidates:
        if path.exists():
            return str(path)
    return None


NONE = "  (không có / none)"
NONE_YET = "  (chưa có / none yet)"


def _section(vi: str, en: str, rows: list[dict], line, empty: str | None = None) -> None:
    """A heading, one line per row, and `empty` when there is no row (not printed when None)."""
    say(vi, en)
    for row in rows:
        print(line(row))
    if not rows and empty is not None:
        print(empty)


def _plain(value) -> str:
    """A run summary as `key: value, …` for people (lists shortened to their length beyond 3 items)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        head = " ".join(_plain(v) for v in value[:3])
        return head + (f" (+{len(value) - 3})" if len(value) > 3 else "")
    return str(value)


def _more(total: int, shown: int) -> None:
    if total > shown:
        print(f"  … và {total - shown} file khác / and {total - shown} more")


def cmd_status(args) -> int:
    report = status_report(args.limit)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"LENSAN_HOME: {report['lensan_home']}\nKho dữ liệu / warehouse: {report['warehouse']}\n")
    _section("Đã nhận (theo nguồn, trạng thái):", "Landed (by source, status):",
             report["landed"] or [{"source": "-", "status": "-", "files": 0, "rows": 0}],
             lambda row: f"  {row['source']:<20} {row['status']:<12} {row['files']:>6} files {row['rows']:>9} rows")
    _section("\nFile bị cách ly và lý do:", "Quarantined files and reasons:", report["quarantined"],
             lambda row: f"  {row['file']} [{row['code']}] — cách ly lúc / quarantined at {row['quarantined_at']}\n"
                         f"    vi: {row['reason_vi']}\n    en: {row['reason_en']}\n"
                         f"    ở / at: {row['path'] or row['reason_file']}", NONE)
    _more(report["quarantined_total"], len(report["quarantined"]))
    _section("\nFile đang chờ trong thư mục landing:", "Files waiting in landing:", report["waiting"],
             lambda row: f"  {row['path']}  (đến lúc / arrived {row['arrived_at']})" + (
                 "" if row["in_source_folder"] else "\n    không nằm trong thư mục nguồn nào nên sẽ không được nhận / "
                                                    "not in a source folder: it will not be landed"), NONE)
    _more(report["waiting_total"], len(report["waiting"]))
    _section("\nFile đã rút:", "Withdrawn files:", report["withdrawn"],
             lambda row: f"  {row['source']}/{row['file']} ({row['sha256'][:12]}…) lúc / at {row['withdrawn_at']}: "
                         f"{row['reason']}", NONE)
    _more(report["withdrawn_total"], len(report["withdrawn"]))
    _section("\nĐã công bố:", "Published:", report["publications"],
             lambda row: f"  {row['period']}: {row['scopes']} phạm vi/scopes, bản sửa đổi tối đa/max revision "
                         f"{row['max_revision']}, cổng/gate {row['gate']}, {row['last_published_at']}")
    for path in report["exports"]:
        print(f"  {path}")
    if not report["publications"] and not report["exports"]:
        print(NONE_YET)
    _section("\nKết quả cổng chất lượng:", "Quality gate results:", report["gate_results"],
             lambda row: f"  {row['recorded_at']}  {row['checkpoint']:<20} {row['period']:<10} {row['status']:<8} "
                         f"lỗi/errors {row['errors']}, cảnh báo/warnings {row['warnings']}", NONE_YET)
    _section("\nLần chạy gần nhất (DAG.task):", "Last runs (DAG.task):", report["last_runs"],
             lambda row: f"  {row['recorded_at']}  {row['dag_id']}.{row['task_id']:<22} {row['status']:<8} "
                         f"{_plain(row['summary'])[:160]}", NONE_YET)
    _section("\nCảnh báo (tác vụ lỗi):", "Alerts (failed tasks):", report["alerts"],
             lambda row: f"  {row['created_at']}  {row['dag_id']}.{row['task_id']} try {row['try_number']}: "
                         f"{row['exception_class']}: {' '.join((row['message'] or '').split())[:200]}", NONE)
    say(f"\nData Docs: {report['data_docs'] or '(chưa tạo)'}",
        f"Data Docs: {report['data_docs'] or '(not built yet)'}")
    return 0
