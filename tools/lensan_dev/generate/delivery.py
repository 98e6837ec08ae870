"""Delivery: files written into <home>/landing/<source>/ under their names, each file's mtime its
simulated delivery time (weekly forms on time, late or resent; registers; daily extracts)."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import defaultdict
from pathlib import Path

from lensan.calendar import periods

from lensan_dev.generate.common import local_time, rng_for
from lensan_dev.generate.encoding import csv_bytes
from lensan_dev.generate.forms import form_rows, form_workbook
from lensan_dev.generate.people import format_phone, person_name, random_phone
from lensan_dev.generate.planted import form_truth
from lensan_dev.generate.population import Unit
from lensan_dev.generate.register import REGISTER_HEADINGS, REGISTER_XLSX_SHARE, register_rows, register_xlsx

# Probability that a unit resends its weekly form (a `_2` file).
RESEND_PROBABILITY = 0.04


class Writer:
    def __init__(self, home: Path):
        self.home = home
        self.paths: list[Path] = []
        self.files_by_source: dict[str, int] = defaultdict(int)
        self.rows_by_entity: dict[str, int] = defaultdict(int)

    def path(self, source: str, name: str) -> Path:
        folder = self.home / "landing" / source
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def write(self, source: str, name: str, data: bytes, delivered: dt.datetime, entity: str, rows: int) -> Path:
        path = self.path(source, name)
        path.write_bytes(data)
        return self.written(path, source, delivered, entity, rows)

    def written(self, path: Path, source: str, delivered: dt.datetime, entity: str, rows: int) -> Path:
        """Record a file written (or streamed) at `path`; its mtime becomes the delivery time."""
        ts = delivered.timestamp()
        os.utime(path, (ts, ts))
        self.paths.append(path)
        self.files_by_source[source] += 1
        self.rows_by_entity[entity] += rows
        return path


def extract_name(platform: str, entity: str, day: dt.date) -> str:
    if platform == "postmart":
        return f"postmart_{entity}_{day:%Y%m%d}.csv"
    return f"voso_{entity}_{day:%Y-%m-%d}.jsonl.gz"


def extract_delivery(day: dt.date) -> dt.datetime:
    """Daily extracts arrive the next day at 02:00 local."""
    return local_time(day + dt.timedelta(days=1), 2, 0)


def unit_reporter(seed: int, u: Unit) -> tuple[str, str]:
    reporter_rng = rng_for(seed, "reporter", u.map_version, u.code)
    return person_name(reporter_rng), random_phone(reporter_rng)


def deliver_form(writer: Writer, seed: int, u: Unit, w: str, t: dict, prev_truth: dict,
                 reporter: tuple[str, str], late: bool, plant: dict | None = None) -> list[dict]:
    """Write the unit's weekly form for `w` (and its resend, if any); the files as {name, delivered_at}.

    `plant` (planted.choose) is a divergence the form carries on purpose, in every file of the week.
    """
    fr = rng_for(seed, "form", u.map_version, u.code, w)
    typed = form_truth(t, plant)
    exact = frozenset({plant["indicator"]}) if plant else frozenset()
    deadline = periods.weekly_deadline(w)
    files = []
    _, sunday = periods.week_bounds(w)
    if late:
        delivered = local_time(sunday + dt.timedelta(days=fr.choice((5, 5, 6, 8))), fr.randint(8, 16),
                               fr.randint(0, 59))
    else:
        day_offset = fr.choice((2, 3, 3, 4))
        hour = fr.randint(7, 12) if day_offset == 4 else fr.randint(7, 17)
        delivered = min(local_time(sunday + dt.timedelta(days=day_offset), hour, fr.randint(0, 59)),
                        deadline - dt.timedelta(minutes=fr.randint(5, 60)))
    phone_typed = format_phone(fr, reporter[1])
    rows = form_rows(fr, u, w, typed, prev_truth, noise=0.12, exact=exact)
    name = f"bao_cao_tuan_{u.code}_{w}.xlsx"
    data = form_workbook(random.Random(fr.random()), u, w, (reporter[0], phone_typed), rows)
    writer.write("weekly_form", name, data, delivered, "weekly_form", len(rows))
    files.append({"name": name, "delivered_at": delivered.isoformat()})
    if fr.random() < RESEND_PROBABILITY:
        rows2 = form_rows(random.Random(fr.random()), u, w, typed, prev_truth, noise=0.0, exact=exact)
        resent = delivered + dt.timedelta(hours=fr.randint(2, 30))
        name2 = f"bao_cao_tuan_{u.code}_{w}_2.xlsx"
        data2 = form_workbook(random.Random(fr.random()), u, w, (reporter[0], phone_typed), rows2)
        writer.write("weekly_form", name2, data2, resent, "weekly_form", len(rows2))
        files.append({"name": name2, "delivered_at": resent.isoformat()})
    return files


def deliver_register(writer: Writer, seed: int, u: Unit, last_sunday: dt.date) -> Path:
    """Write the unit's household register snapshot dated `last_sunday` (CSV, sometimes XLSX)."""
    rr = rng_for(seed, "register", u.map_version, u.code)
    reg_rows = register_rows(rr, u)
    delivered = local_time(last_sunday + dt.timedelta(days=1), rr.randint(8, 11), rr.randint(0, 59))
    if rr.random() < REGISTER_XLSX_SHARE:
        name, data = f"danh_sach_ho_{u.code}_{last_sunday:%Y%m%d}.xlsx", register_xlsx(reg_rows)
    else:
        name, data = (f"danh_sach_ho_{u.code}_{last_sunday:%Y%m%d}.csv",
                      csv_bytes(REGISTER_HEADINGS, reg_rows, ",", bom=rr.random() < 0.5))
    return writer.write("household_register", name, data, delivered, "household_register", len(reg_rows))
