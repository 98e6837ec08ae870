"""Publication of the reports (weekly: appendix 02 of Quảng Ninh plan 201/KH-UBND; monthly, 6-monthly and
year-end: the same layout over those periods) as immutable revisions.

`publish_weekly(week_key)` reads `marts.rpt_weekly_report` for the week and writes, for every scope
(each province, each region, the nation) found there:

    LENSAN_HOME/exports/week/<week_key>/<scope_level>-<scope_code>/rev-<n>/
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.xlsx   the template (+ sheet "Biểu đồ"), for people
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.csv    UTF-8 with BOM, ';', decimal comma
        bao_cao_tuan_<week_key>_<scope_level>-<scope_code>.json   machine form, numbers as numbers
                                                                  (docs/schemas/weekly_report.schema.json)
        manifest.json                                             period, scope, revision, SHA-256s, the
                                                                  source files that fed this scope …
    LENSAN_HOME/exports/week/<week_key>/index.json                what was published / unchanged / blocked
    LENSAN_HOME/exports/week/<week_key>/tom_tat_<week_key>.html   one-page summary (inline SVG charts)

`publish_period(period_type, period_key)` does the same for 'month' ('2026-11'), 'half_year'
('2026-H1') and 'year' ('2026') from `marts.fct_indicator_values` (provinces on post-2025 boundaries,
regions, the nation; platform 'all') into exports/<period_type>/<period_key>/…, files
bao_cao_thang_… / bao_cao_6_thang_… / bao_cao_nam_… (docs/schemas/period_report.schema.json);
'week' is publish_weekly.

Revisions are immutable. A scope's content is the CSV + JSON bytes (both deterministic); when it
equals the latest revision's content nothing is written (status `unchanged`), otherwise rev n+1 is
written next to the older ones, with the changed rows (indicator_code, old/new values) listed in its
manifest. The XLSX is deterministic too apart from generated_at (workbook properties and zip entry
times are set from it), but revisions are compared on the CSV/JSON content hash only. The summary
HTML and index.json describe the latest state and are rewritten on every run.
(lensan.publish.revisions)

Scopes in `blocked_scopes` ("province-22" → reason), and those a gate summary marks as blocked, are
not written; the summary, index.json and the HTML list them with their reasons, and their numbers are
left out of the per-province charts of the other scopes. Every written revision is recorded in
`ops.publications` and, in the same transaction, every row it published in `ops.published_values`
(period, scope, indicator, revision, published_at = generated_at, the values): the dbt mart
`marts.fct_indicator_values_asof_deadline` reads it to reproduce what stood at each deadline
(lensan.publish.records).

A manifest's `source_files` are the loaded raw files that fed its own scope and period
(lensan.publish.readers.read_source_files): each by SHA-256, source, date (and week for a form) and a
safe name built from those identified fields — never the name as delivered, which may hold a person's
name or phone and stays in the archive (docs/security.md).

Monthly reports also carry the platforms' statistics per product type (DOMAIN §6) from
`marts.fct_product_type_monthly` (when that mart exists): a sheet `Thống kê theo loại sản phẩm` in the
XLSX, `product_types` in the JSON and a second CSV `<base>_loai_san_pham.csv`.

Every report carries the postmart and voso figures beside the total (CSV columns 9–12, JSON
`<field>_<platform>`, the XLSX sheet `Theo sàn`), the body that issues it (template.issuing_body) and,
for a week, the form rows each unit filled out of those it owes (lensan.publish.completeness). Fields and
folders: docs/exports.md.

This module runs a publication; the marts are read by lensan.publish.readers, the rows shaped by
lensan.publish.rows, the wording comes from lensan.publish.template and the files are rendered by
lensan.publish.render.{csv,json,xlsx,html,charts}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from lensan import settings
from lensan.calendar import periods
from lensan.db import ddl, warehouse
from lensan.db.locks import file_lock
from lensan.publish import readers, records, revisions
from lensan.publish.completeness import read_completeness
from lensan.publish.render import csv as csv_render
from lensan.publish.render import html as html_render
from lensan.publish.render import json as json_render
from lensan.publish.render import xlsx as xlsx_render
from lensan.publish.render.formatting import iso_utc
from lensan.publish.rows import clean_rows, coverage, is_own_row, province_values, section_blocks
from lensan.publish.template import MAP_VERSION, Period, issuing_body, scope_sort_key
from lensan.quality import summary as gate_summaries


class NothingToPublish(LookupError):
    """The mart has no rows for the requested period."""


@dataclass
class ScopePublication:
    scope_key: str
    scope_level: str
    scope_code: str
    scope_name: str
    status: str                    # new | unchanged | blocked
    revision: int | None = None
    path: str | None = None
    content_hash: str | None = None
    reason: str | None = None
    changed_rows: int = 0


@dataclass
class PublishSummary:
    period_type: str
    week_key: str                  # the period key (name kept from the weekly-only version)
    generated_at: str
    export_dir: str
    index_path: str
    gate_status: str | None
    published: list[dict] = field(default_factory=list)   # new revisions
    unchanged: list[dict] = field(default_factory=list)   # content equal to the latest revision
    blocked: dict[str, str] = field(default_factory=dict)  # scope key → reason
    summary_html: str | None = None                        # exports/<type>/<key>/tom_tat_<key>.html
    completeness: dict[str, dict] = field(default_factory=dict)  # scope key → reporting completeness
    map_version: str = MAP_VERSION                         # pre2025: published on the map of its time

    @property
    def period_key(self) -> str:
        return self.week_key

    @property
    def scopes(self) -> list[dict]:
        return self.published + self.unchanged


# --------------------------------------------------------------------------------------------
# public API


def publish_weekly(week_key: str, gate_summary: dict | None = None,
                   blocked_scopes: dict[str, str] | None = None,
                   logical_date: dt.datetime | None = None,
                   generated_at: dt.datetime | None = None, map_version: str = MAP_VERSION) -> PublishSummary:
    """Publish the weekly report of `week_key` for every province, region and the nation.

    `gate_summary` is the marts gate summary (lensan.quality.checkpoints.run_checkpoint); its status goes into every
    manifest and its warnings flag the affected rows. `blocked_scopes` ("province-22" → reason) are
    not written. `logical_date` is accepted for the DAG (the week is already resolved from it);
    `generated_at` (UTC) defaults to now.
    """
    periods.week_bounds(week_key)   # ValueError on a malformed key, as before
    return publish_period("week", week_key, gate_summary=gate_summary, blocked_scopes=blocked_scopes,
                          logical_date=logical_date, generated_at=generated_at, map_version=map_version)


def publish_period(period_type: str, period_key: str, gate_summary: dict | None = None,
                   blocked_scopes: dict[str, str] | None = None,
                   logical_date: dt.datetime | None = None,
                   generated_at: dt.datetime | None = None, map_version: str = MAP_VERSION) -> PublishSummary:
    """Publish the report of one period for every province (post-2025 map), region and the nation.

    period_type 'week' reads marts.rpt_weekly_report (with the completeness annex); 'month',
    'half_year' and 'year' read marts.fct_indicator_values (platform 'all', the postmart and voso
    figures beside it), with the target attainment for the period's year. Raises NothingToPublish when
    the mart has no rows for it.

    `map_version` 'pre2025' (`lensan publish --map as-reported`) publishes a period before 1 July 2025 on
    the map of its time — its 63 provinces, from marts.fct_indicator_values — into exports/<type>/<key>/
    pre2025/, beside today's boundaries; such a view on request is not entered in the publication log
    (ops.publications / published_values follow today's map, the as-of-deadline mart reads them).
    """
    start, end = periods.period_bounds(period_type, period_key)
    now = (generated_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    blocked = dict((gate_summary or {}).get("blocked_scopes") or {})
    blocked.update(blocked_scopes or {})

    conn = warehouse.connect()
    try:
        ddl.ensure(conn, "ops")
        deadline = (readers.deadline_from_mart(conn, period_type, period_key)
                    or periods.period_deadline(period_type, period_key))
        period = Period(period_type, period_key, start, end, deadline, map_version)
        if period_type == "week" and not period.as_reported:
            rows = readers.read_report(conn, period_key)
            completeness = read_completeness(conn, period_key, start, end) if rows else {}
        else:
            rows = readers.read_period_facts(conn, period)
            completeness = (read_completeness(conn, period_key, start, end, map_version)
                            if period_type == "week" and rows else {})
        product_types = readers.read_product_types(conn, period) if period_type == "month" else None
        source_files = readers.read_source_files(conn, period)
        conn.commit()
    finally:
        conn.close()
    if not rows:
        if period_type == "week" and not period.as_reported:
            raise NothingToPublish(
                f"Không có dữ liệu marts.rpt_weekly_report cho tuần {period_key} / "
                f"no rows in marts.rpt_weekly_report for week {period_key}")
        raise NothingToPublish(readers.no_period_rows_message(period))

    scopes: dict[str, list[dict]] = {}
    for row in rows:
        scopes.setdefault(f"{row['scope_level']}-{row['scope_code']}", []).append(row)
    ordered = sorted(scopes, key=lambda k: scope_sort_key(scopes[k][0]["scope_level"], k))
    provinces = province_values(scopes, blocked, map_version)
    covered = coverage(scopes, period.value_field, map_version)

    period_dir = settings.home_dir("exports") / period_type / period_key
    if period.as_reported:   # beside today's boundaries, never in place of them
        period_dir = period_dir / period.map_version
    period_dir.mkdir(parents=True, exist_ok=True)
    gate_compact = gate_summaries.compact(gate_summary)
    summary = PublishSummary(period_type=period_type, week_key=period_key, generated_at=iso_utc(now),
                             export_dir=str(period_dir), index_path=str(period_dir / "index.json"),
                             gate_status=(gate_summary or {}).get("status"), map_version=map_version,
                             completeness={k: v for k, v in completeness.items() if k not in blocked})
    with file_lock(period_dir / ".lock"):
        for key in ordered:
            if key in blocked:
                summary.blocked[key] = blocked[key]
                continue
            pub = _publish_scope(period_dir, period, key, scopes[key], now, gate_summary, gate_compact,
                                 source_files, completeness.get(key), provinces,
                                 None if product_types is None else product_types.get(key, []),
                                 covered.get(key))
            (summary.published if pub.status == "new" else summary.unchanged).append(dict(pub.__dict__))
        for key, reason in blocked.items():  # blocked scopes that have no rows this period too
            summary.blocked.setdefault(key, reason)
        _write_index(period_dir, summary, scopes)
        summary.summary_html = str(_write_summary_html(period_dir, period, summary, scopes, provinces))
    return summary


# --------------------------------------------------------------------------------------------
# one scope


def _publish_scope(period_dir: Path, period: Period, key: str, raw_rows: list[dict], now: dt.datetime,
                   gate_summary: dict | None, gate_compact: dict | None, source_files: list[dict],
                   completeness: dict | None = None, provinces: list | None = None,
                   product_types: list[dict] | None = None, coverage: dict | None = None) -> ScopePublication:
    """Render one scope's report; write it as a new revision unless its content equals the latest one."""
    first = raw_rows[0]
    level, code = first["scope_level"], first["scope_code"]
    name = first.get("scope_name") or key
    rows = clean_rows(raw_rows, key, gate_summary, period.value_field)
    base = period.file_base(key)
    # by SHA-256 and safe name, never as delivered; files are located by today's province
    fed = readers.scope_source_files(source_files, level, _todays_code(period, level, code))
    body = issuing_body(level, code, now.astimezone(settings.LOCAL_TZ).date(), period.map_version)

    json_bytes = json_render.render_json(period, level=level, code=code, name=name, rows=rows,
                                         completeness=completeness, product_types=product_types,
                                         issuing_body=body, coverage=coverage)
    csv_bytes = csv_render.render_csv(rows, period)
    product_csv = csv_render.render_product_csv(product_types) if product_types else None
    content_hash = revisions.content_hash(csv_bytes, json_bytes, product_csv)

    scope_dir = period_dir / key
    scope_dir.mkdir(parents=True, exist_ok=True)
    latest = revisions.latest_revision(scope_dir)
    if latest is not None and revisions.read_manifest(scope_dir, latest).get("content_hash") == content_hash:
        return ScopePublication(key, level, code, name, "unchanged", latest,
                                str(scope_dir / f"rev-{latest}"), content_hash)
    revision = (latest or 0) + 1
    changes = (revisions.changes(scope_dir / f"rev-{latest}" / f"{base}.json", rows,
                                 revisions.compared_fields(period)) if latest else [])

    if level == "nation":
        scope_provinces = provinces
    elif level == "region":
        scope_provinces = [p for p in provinces or [] if p.region_code == code]
    else:
        scope_provinces = None
    xlsx_bytes = xlsx_render.render_xlsx(period.key, period.start, period.end, level, code, name, rows, revision,
                                         now, gate_summary, completeness, period=period,
                                         provinces=scope_provinces, product_types=product_types,
                                         coverage=coverage)
    files = {f"{base}.json": json_bytes, f"{base}.csv": csv_bytes, f"{base}.xlsx": xlsx_bytes}
    entries = [revisions.file_entry(f"{base}.{ext}", ext, data)
               for ext, data in (("xlsx", xlsx_bytes), ("csv", csv_bytes), ("json", json_bytes))]
    if product_csv:
        files[f"{base}_loai_san_pham.csv"] = product_csv
        entries.append(revisions.file_entry(f"{base}_loai_san_pham.csv", "csv", product_csv,
                                            content="product_types"))
    manifest = {
        "period_type": period.type, "period_key": period.key,
        "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
        "deadline_at": period.deadline_at.isoformat() if period.deadline_at else None,
        "scope_level": level, "scope_code": code, "scope_name": name, "scope_key": key,
        "map_version": period.map_version, "issuing_body": body,
        "revision": revision, "previous_revision": latest,
        "generated_at": iso_utc(now),
        "content_hash": content_hash,
        "row_counts": {"indicator_rows": len(rows), "json_rows": len(rows),
                       "csv_data_rows": csv_render.csv_data_rows(csv_bytes),
                       "section_rows": sum(1 for s_, rs in section_blocks(rows) if not is_own_row(s_, rs)),
                       "reported_rows": sum(1 for r in rows if r[period.value_field] is not None
                                            or r["cumulative_value"] is not None)}
                      | ({"product_type_rows": len(product_types)} if product_types is not None else {}),
        "files": entries,
        "gate": gate_compact,
        "quality_flags": sorted({f for r in rows for f in r["quality_flags"]}),
        "changes": changes,
        "source_files": fed,
        "source_file_count": len(fed),
    }
    final = revisions.write_revision(scope_dir, revision, files, manifest)
    manifest_sha = hashlib.sha256((final / "manifest.json").read_bytes()).hexdigest()
    if period.as_reported:   # a view on request: the publication log follows today's map
        return ScopePublication(key, level, code, name, "new", revision, str(final), content_hash,
                                changed_rows=len(changes))
    records.record_revision(period_type=period.type, period_key=period.key, level=level, code=code,
                            revision=revision, path=final, content_hash=content_hash, manifest_sha256=manifest_sha,
                            published_at=now, gate_status=(gate_summary or {}).get("status"),
                            changed_rows=len(changes), rows=rows, value_field=period.value_field)
    return ScopePublication(key, level, code, name, "new", revision, str(final), content_hash,
                            changed_rows=len(changes))


def _todays_code(period: Period, level: str, code: str) -> str:
    """A province of the map of its time as today's province (the source files are located by it)."""
    if period.as_reported and level == "province":
        from lensan import reference

        return reference.province_crosswalk().get(code, code)
    return code


# --------------------------------------------------------------------------------------------
# the period folder: index.json and the summary page (the latest state, rewritten on every run)


def _write_index(period_dir: Path, summary: PublishSummary, scopes: dict[str, list[dict]]) -> None:
    """index.json of a period folder: what was published / unchanged / blocked by the latest run."""
    entries = []
    for item in summary.published + summary.unchanged:
        entries.append({k: item[k] for k in ("scope_key", "scope_level", "scope_code", "scope_name", "status",
                                             "revision", "content_hash", "changed_rows")}
                       | {"path": os.path.relpath(item["path"], period_dir)})
    for key, reason in summary.blocked.items():
        level, _, code = key.partition("-")
        name = scopes[key][0].get("scope_name") if key in scopes else None
        latest = revisions.latest_revision(period_dir / key) if (period_dir / key).is_dir() else None
        entries.append({"scope_key": key, "scope_level": level, "scope_code": code, "scope_name": name,
                        "status": "blocked", "reason": reason, "latest_published_revision": latest})
    entries.sort(key=lambda e: scope_sort_key(e["scope_level"], e["scope_key"]))
    index = {
        "period_type": summary.period_type, "period_key": summary.week_key, "generated_at": summary.generated_at,
        "map_version": summary.map_version,
        "gate_status": summary.gate_status,
        "counts": {"new": len(summary.published), "unchanged": len(summary.unchanged),
                   "blocked": len(summary.blocked)},
        "scopes": entries,
    }
    _replace_text(period_dir / "index.json", json.dumps(index, ensure_ascii=False, indent=2) + "\n")


def _write_summary_html(period_dir: Path, period: Period, summary: PublishSummary,
                        scopes: dict[str, list[dict]], provinces: list) -> Path:
    """exports/<type>/<key>/tom_tat_<key>.html — the one-page summary of the latest state."""
    page = html_render.render_period_summary(
        period, period_dir, generated_at=summary.generated_at, gate_status=summary.gate_status, scopes=scopes,
        published=summary.scopes, blocked=summary.blocked, completeness=summary.completeness,
        provinces=provinces)
    path = period_dir / f"tom_tat_{period.key}.html"
    _replace_text(path, page)
    return path


def _replace_text(path: Path, text: str) -> None:
    """Write through a hidden temporary file and rename: readers never see a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
