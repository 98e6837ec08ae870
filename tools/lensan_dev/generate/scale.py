"""National-scale sample data: one week of the whole country, streamed with bounded memory.

`generate_national(scale, week)` writes what the warehouse receives for one ISO week on the
post-reform map (34 provinces, 3,321 reporting communes/wards):

* ``weekly_form``        one appendix-02 workbook per expected reporting unit (resends as in
                         `generate()`; nobody late or missing: the full national load);
* ``household_register`` one snapshot per unit, dated the week's Sunday;
* ``postmart`` / ``voso`` the 7 daily extracts per entity, about ``scale`` million orders in all
                         (SF1 ≈ 1,000,000 orders split over both platforms and 7 days, ≈ 2 activity
                         events per order, shops and products proportional to ``scale``).

Formats, file names and delivery times are exactly those of `lensan_dev.generate` (docs/raw_formats.md):
the population of each unit is `population.build_unit`, its rows come from `platforms`' row writers,
forms and registers from `delivery.deliver_form` / `deliver_register`. The only differences are
operational: platform rows are written to the 70 daily files as each unit is built (rows of a file
are grouped by unit, not sorted by time — the format does not order them), the voso gzip streams use
compression level 6, and no `truth.json` is written (a small `generated/national_summary.json`
instead). Memory stays bounded by one unit's population plus the reference data.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from lensan import settings, reference

from lensan.calendar import periods
from lensan_dev.generate.api import GenerateSummary
from lensan_dev.generate.common import days_of_week
from lensan_dev.generate.delivery import Writer, deliver_form, deliver_register, extract_delivery, extract_name, \
    unit_reporter
from lensan_dev.generate.encoding import BOM, csv_writer, jsonl_line
from lensan_dev.generate.lookups import provinces_for_map
from lensan_dev.generate.platforms import PM_ENTITIES, PM_HEADERS, VS_ENTITIES, post_row, unit_platform_rows
from lensan_dev.generate.population import HOUSEHOLDS_PER_UNIT, build_unit, info_posts
from lensan_dev.generate.truth import week_truth

ORDERS_PER_SCALE = 1_000_000     # SF1: orders per week, nationally, both platforms
MAP_VERSION = "post2025"
# Share of orders preceded by a buyer "search" event: with the buyer's and seller's "transaction"
# events and the posting / messaging activity this gives ≈ 2 activity events per order.
SEARCH_PER_ORDER = 0.0
INITIAL_FILL = 0.7               # first guess of orders kept / orders drawn (products not listed yet)
VOSO_GZIP_LEVEL = 6


@dataclass
class ScaleProgress:
    """What the progress callback receives (str() gives a one-line report)."""
    units_done: int
    units_total: int
    rows: int
    orders: int
    mb_written: float
    elapsed_s: float
    mb_per_s: float
    rows_per_s: float
    eta_s: float | None
    peak_rss_mb: float

    def __str__(self) -> str:
        eta = f"{self.eta_s:,.0f} s" if self.eta_s is not None else "?"
        return (f"{self.units_done:,}/{self.units_total:,} units · {self.rows:,} rows ({self.orders:,} orders) · "
                f"{self.mb_written:,.1f} MB · {self.mb_per_s:,.1f} MB/s · {self.rows_per_s:,.0f} rows/s · "
                f"ETA {eta} · peak RSS {self.peak_rss_mb:,.0f} MB")


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def households_per_unit(scale: float) -> tuple[int, int]:
    """The population range per unit: the sample's 15–40 households at SF1, proportional to `scale`."""
    lo, hi = HOUSEHOLDS_PER_UNIT
    return max(3, round(lo * scale)), max(5, round(hi * scale))


class _ExtractStreams:
    """The 70 daily extract files of the week, open for appending rows (one unit at a time)."""

    def __init__(self, writer: Writer, days: list[dt.date]):
        self.writer = writer
        self.days = set(days)
        self._raw: dict[tuple[str, str, dt.date], io.BufferedWriter] = {}
        self._text: dict[tuple[str, str, dt.date], io.TextIOWrapper] = {}
        self._csv: dict[tuple[str, str, dt.date], object] = {}
        self._gz: dict[tuple[str, str, dt.date], gzip.GzipFile] = {}
        self.rows: dict[tuple[str, str, dt.date], int] = {}
        self.paths: dict[tuple[str, str, dt.date], Path] = {}
        self.closed_bytes: int | None = None
        for day in days:
            for entity in PM_ENTITIES:
                key = ("postmart", entity, day)
                path = writer.path("postmart", extract_name("postmart", entity, day))
                raw = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
                raw.write(BOM)
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                self._csv[key] = csv_writer(text, ";")
                self._csv[key].writerow(PM_HEADERS[entity])
                self._raw[key], self._text[key], self.rows[key], self.paths[key] = raw, text, 0, path
            for entity in VS_ENTITIES:
                key = ("voso", entity, day)
                path = writer.path("voso", extract_name("voso", entity, day))
                raw = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
                gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=VOSO_GZIP_LEVEL)
                text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
                self._raw[key], self._gz[key], self._text[key], self.rows[key], self.paths[key] = raw, gz, text, 0, path

    def write(self, platform: str, entity: str, day: dt.date, row) -> bool:
        key = (platform, entity, day)
        if key not in self.rows:      # a row outside the week (cannot happen with one week; kept safe)
            return False
        if platform == "postmart":
            self._csv[key].writerow(row)
        else:
            self._text[key].write(jsonl_line(row))
        self.rows[key] += 1
        return True

    def bytes_written(self) -> int:
        if self.closed_bytes is not None:
            return self.closed_bytes
        return sum(raw.tell() for raw in self._raw.values())

    def close(self) -> None:
        if self.closed_bytes is not None:
            return
        for key, text in self._text.items():
            text.flush()
            if key in self._gz:
                self._gz[key].close()
            self._raw[key].close()
            platform, entity, day = key
            self.writer.written(self.paths[key], platform, extract_delivery(day), f"{platform}_{entity}",
                                self.rows[key])
        self.closed_bytes = sum(path.stat().st_size for path in self.paths.values())


def generate_national(scale: float, week: str | list[str], seed: int = 1034, home: Path | None = None,
                      progress: Callable[[ScaleProgress], None] | None = None,
                      provinces: list[str] | None = None, progress_every_s: float = 5.0) -> GenerateSummary:
    """Write one national week (post-reform map) at `scale` (SF1 ≈ 1M orders) into <home>/landing/.

    `week` must be on the post-reform map (Monday on or after 2025-07-01). `provinces` (post-reform
    codes) restricts the run to part of the country, with the orders scaled down in proportion to its
    units. `week` may be a list of consecutive weeks: one population over all of them (households and
    shops persist, orders of one week are returned in a later one), `scale` orders per week, the forms
    of every week, the registers dated the last Sunday (as `generate()` does). `progress` receives a
    `ScaleProgress` about every `progress_every_s` seconds and at the end.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    weeks = [week] if isinstance(week, str) else sorted(set(week), key=lambda w: periods.week_bounds(w)[0])
    monday, sunday = periods.week_bounds(weeks[0])[0], periods.week_bounds(weeks[-1])[1]
    if reference.map_version_for(monday) != MAP_VERSION:
        raise ValueError(f"{weeks[0]} is not on the post-reform map (weeks from 2025-W28)")
    home = Path(home) if home is not None else settings.lensan_home()
    codes = provinces_for_map(MAP_VERSION, provinces, MAP_VERSION)
    units = reference.reporting_units(MAP_VERSION, codes)
    if not units:
        raise ValueError(f"no reporting units for provinces {codes}")
    national_units = len(reference.reporting_units(MAP_VERSION))
    target_orders = scale * ORDERS_PER_SCALE * len(units) / national_units * len(weeks)
    per_unit = target_orders / len(units)
    hh_range = households_per_unit(scale)
    days = [d for w in weeks for d in days_of_week(w)]

    writer = Writer(home)
    streams = _ExtractStreams(writer, days)
    started = time.perf_counter()
    last_report = started
    rows = orders = drawn = kept = other_bytes = 0

    def report(done: int) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        mb = (streams.bytes_written() + other_bytes) / 1e6
        eta = elapsed / done * (len(units) - done) if done else None
        if progress:
            progress(ScaleProgress(done, len(units), rows, orders, round(mb, 1), round(elapsed, 1),
                                   round(mb / elapsed, 2), round(rows / elapsed), eta, round(peak_rss_mb(), 1)))

    try:
        posts_by_prov = {p: info_posts(seed, MAP_VERSION, p, days) for p in codes}
        for posts in posts_by_prov.values():
            for post in posts:
                entity = "thong_tin" if post[0] == "postmart" else "info_posts"
                rows += streams.write(post[0], entity, post[4].date(), post_row(post[0], post))

        for index, ref_unit in enumerate(units):
            # orders drawn on days before any product is listed are dropped by build_unit: draw
            # more, steering by the share kept so far, so the total lands near the target
            fill = kept / drawn if drawn else INITIAL_FILL
            want = max(0.0, (per_unit * (index + 1) - kept) / max(fill, 0.05))
            opw = max(0, round(want / len(weeks)))
            u = build_unit(seed, ref_unit, weeks, opw, households_per_unit=hh_range,
                           search_per_order=SEARCH_PER_ORDER)
            drawn += opw * len(weeks)
            kept += len(u.orders)
            for platform, entity_pm, entity_vs, day, _, row in unit_platform_rows(u):
                if streams.write(platform, entity_pm if platform == "postmart" else entity_vs, day, row):
                    rows += 1
                    orders += entity_pm == "don_hang"
            for w in weeks:
                t = week_truth(u, w, posts_by_prov[u.province])
                prev_week = periods.week_key(periods.week_bounds(w)[0] - dt.timedelta(days=7))
                prev = week_truth(u, prev_week, posts_by_prov[u.province])
                for f in deliver_form(writer, seed, u, w, t, prev, unit_reporter(seed, u), late=False):
                    other_bytes += (writer.home / "landing" / "weekly_form" / f["name"]).stat().st_size
                    rows += 17
            reg = deliver_register(writer, seed, u, sunday)
            other_bytes += reg.stat().st_size
            rows += len(u.households)
            now = time.perf_counter()
            if now - last_report >= progress_every_s:
                last_report = now
                report(index + 1)
    finally:
        streams.close()
    report(len(units))

    summary = GenerateSummary(dict(writer.files_by_source), dict(writer.rows_by_entity), sorted(writer.paths))
    out = home / "generated" / "national_summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "scale": scale, "week": weeks[-1], "weeks": weeks, "seed": seed, "map_version": MAP_VERSION, "provinces": codes,
        "units": len(units), "households_per_unit": hh_range, "target_orders": round(target_orders),
        "files_by_source": summary.files_by_source, "rows_by_entity": summary.rows_by_entity,
        "seconds": round(time.perf_counter() - started, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
    }, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    return summary


__all__ = ["ORDERS_PER_SCALE", "ScaleProgress", "generate_national", "households_per_unit", "peak_rss_mb"]


if __name__ == "__main__":   # python -m lensan_dev.generate.scale SCALE WEEK [HOME]
    import sys

    result = generate_national(float(sys.argv[1]), sys.argv[2], home=Path(sys.argv[3]) if len(sys.argv) > 3 else None,
                               progress=lambda p: print(p, flush=True))
    print(json.dumps(asdict(result) | {"paths": len(result.paths)}, default=str, ensure_ascii=False))
