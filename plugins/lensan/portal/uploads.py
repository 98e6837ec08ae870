"""An uploaded form: landing's verdict (`landing.check_file`, the code path of landing and `lensan check`),
then either a receipt and the file dropped atomically into landing/weekly_form/, or the refusal with
the form as a grid and the offending cell(s) to highlight.

The landing name is `bao_cao_tuan_<unit>_<week>_<sha256[:16]>.<xlsx|xls|ods>`: the same bytes sent
again (a retry, a double click) get the same name and replace themselves, so the ingest DAG sees the
file once; a corrected form (other bytes) is a new delivery, and the latest wins downstream. The file
is written under a dot-name ending in .part in the same folder (which the ingest skips), fsynced, and
renamed with os.replace: the ingest never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lensan import landing, settings
from lensan.calendar import periods
from lensan.landing import safety
from lensan.landing.errors import LandingError
from lensan.landing.parsers import weekly_form, workbook
from lensan.portal.security import max_upload_bytes
from lensan.settings import LOCAL_TZ

EXTENSIONS = {".xlsx": workbook.XLSX, ".xls": workbook.XLS, ".ods": workbook.ODS}
SUFFIX_OF = {kind: suffix for suffix, kind in EXTENSIONS.items()}
_WHERE = re.compile(r"^(?:cell|range) (?:'(?P<sheet>.+)'!)?(?P<c0>[A-Z]+)(?P<r0>\d+)(?::(?P<c1>[A-Z]+)(?P<r1>\d+))?$")
# refusals of the portal itself (the file may be a valid form, just not this account's)
PORTAL_MESSAGES = {
    "WRONG_FILE_TYPE": ("Chỉ nhận tệp .xlsx, .xls hoặc .ods.", "Only .xlsx, .xls or .ods files are accepted."),
    "NO_FILE": ("Chưa chọn tệp để gửi.", "No file was chosen."),
    "UNIT_MISMATCH": ("Biểu mẫu ghi mã đơn vị '{found}', nhưng tài khoản này là của đơn vị '{own}'.",
                      "The form carries unit code '{found}', but this account belongs to unit '{own}'."),
    "NOT_A_WEEKLY_FORM": ("Tệp không phải biểu mẫu báo cáo tuần.", "The file is not a weekly report form."),
}


@dataclass
class Grid:
    sheet_name: str
    rows: list[list[str]]
    highlight: set[tuple[int, int]] = field(default_factory=set)   # 0-based (row, col)


@dataclass
class Verdict:
    ok: bool
    received_at: dt.datetime
    sha256: str | None = None
    size: int = 0
    code: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    where: str | None = None
    week_key: str | None = None
    deadline: dt.datetime | None = None
    on_time: bool | None = None
    landed_name: str | None = None
    warnings: list[dict] = field(default_factory=list)
    grid: Grid | None = None
    rows: int = 0             # indicator rows of the accepted form, and those with a value this week
    reported: int = 0


def timeliness(week_key: str, received_at: dt.datetime) -> tuple[dt.datetime, bool]:
    """The week's deadline (Thursday 14:00 local after the week, `calendar.periods`) and whether
    `received_at` met it — the same rule fct_reporting_completeness applies to the first form."""
    deadline = periods.weekly_deadline(week_key)
    return deadline, received_at <= deadline


def incoming_dir() -> Path:
    """Where uploads wait for their verdict: inside LENSAN_HOME, never the landing folder."""
    return settings.home_dir("portal") / "incoming"


def _store(stream: BinaryIO, folder: Path, suffix: str) -> tuple[Path, str, int]:
    """Copy the upload in chunks to `folder`, hashing as it goes; FILE_TOO_LARGE past the cap."""
    limit = max_upload_bytes()
    path = folder / f"upload{suffix}"
    digest, size = hashlib.sha256(), 0
    with open(path, "xb") as out:
        while chunk := stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise LandingError("FILE_TOO_LARGE", size_mb=f"> {round(limit / safety.MB, 1)}",
                                   limit_mb=round(limit / safety.MB, 1))
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest(), size


def _refused(verdict: Verdict, code: str, vi: str, en: str, where: str | None = None) -> Verdict:
    verdict.ok, verdict.code, verdict.message_vi, verdict.message_en, verdict.where = False, code, vi, en, where
    return verdict


def _portal_refusal(verdict: Verdict, code: str, **fields) -> Verdict:
    vi, en = PORTAL_MESSAGES[code]
    return _refused(verdict, code, vi.format(**fields), en.format(**fields))


def receive(stream: BinaryIO | None, filename: str | None, unit_code: str,
            received_at: dt.datetime | None = None) -> Verdict:
    """The verdict on one upload of unit `unit_code`; an accepted form is dropped into landing."""
    received_at = received_at or dt.datetime.now(tz=LOCAL_TZ)
    verdict = Verdict(ok=False, received_at=received_at)
    if stream is None or not filename:
        return _portal_refusal(verdict, "NO_FILE")
    suffix = Path(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        return _portal_refusal(verdict, "WRONG_FILE_TYPE")
    folder = incoming_dir() / secrets.token_hex(8)
    folder.mkdir(parents=True)
    try:
        try:
            path, verdict.sha256, verdict.size = _store(stream, folder, suffix)
        except LandingError as exc:
            return _refused(verdict, exc.code, exc.message_vi, exc.message_en)
        stamp = received_at.timestamp()
        os.utime(path, (stamp, stamp))      # landing's arrival time is the file's mtime
        result = landing.check_file(path, "weekly_form")
        verdict.week_key = result.week_key
        if result.ok and result.entity != "form":
            _portal_refusal(verdict, "NOT_A_WEEKLY_FORM")
        elif result.ok and result.unit_code != unit_code:
            _portal_refusal(verdict, "UNIT_MISMATCH", found=result.unit_code, own=unit_code)
        elif not result.ok:
            _refused(verdict, result.code, result.message_vi, result.message_en, (result.detail or {}).get("where"))
        if not verdict.code:
            verdict.ok = True
            verdict.warnings = result.warnings
            verdict.deadline, verdict.on_time = timeliness(result.week_key, received_at)
            verdict.landed_name = drop_into_landing(path, unit_code, result.week_key, verdict.sha256)
            verdict.rows = result.row_counts.get("weekly_form_rows", 0)
            verdict.reported = result.row_counts.get("reported_values", 0)
        else:
            verdict.grid = grid_of(path, verdict.where, verdict.code == "UNIT_MISMATCH")
        return verdict
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def landing_name(unit_code: str, week_key: str, sha256: str, kind: str) -> str:
    return f"bao_cao_tuan_{unit_code}_{week_key}_{sha256[:16]}{SUFFIX_OF[kind]}"


def drop_into_landing(path: Path, unit_code: str, week_key: str, sha256: str) -> str:
    """Copy the accepted file into landing/weekly_form/ atomically (temp name in the same folder, fsync,
    os.replace), keeping its mtime (the arrival time). The same bytes always get the same name."""
    folder = settings.landing_dir("weekly_form")
    name = landing_name(unit_code, week_key, sha256, workbook.kind_of(path))
    temp = folder / f".portal-{secrets.token_hex(8)}.part"
    try:
        with open(path, "rb") as src, open(temp, "xb") as out:
            shutil.copyfileobj(src, out, 1 << 16)
            out.flush()
            os.fsync(out.fileno())
        stat = path.stat()
        os.utime(temp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(temp, folder / name)
    finally:
        temp.unlink(missing_ok=True)
    return name


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def grid_of(path: Path, where: str | None, mark_unit_code: bool = False) -> Grid | None:
    """The sheet the refusal points at (or the first) as text cells, with the cells of `where` — or,
    for a form of another unit, its 'Mã đơn vị' cell — marked. None when the file is no workbook."""
    try:
        sheets = workbook.read(path, weekly_form.MAX_ROWS, weekly_form.MAX_COLS)
    except (LandingError, OSError, ValueError):
        return None
    if not sheets:
        return None
    match = _WHERE.match(where or "")
    sheet = sheets[0]
    if match and match["sheet"]:
        sheet = next((s for s in sheets if s.name == match["sheet"]), sheet)
    elif not match:     # a refusal without a cell (e.g. the unit): the sheet holding the form
        sheet = next((s for s in sheets if any("bao cao tuan" in safety.fold(c.value) for row in
                                               s.rows[:weekly_form.HEADER_ROWS] for c in row)), sheet)
    rows = [[_shown(cell.value) for cell in row] for row in sheet.rows]
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    grid = Grid(sheet.name, rows)
    if match:
        r0, c0 = int(match["r0"]) - 1, _column_index(match["c0"])
        r1 = int(match["r1"]) - 1 if match["r1"] else r0
        c1 = _column_index(match["c1"]) if match["c1"] else c0
        grid.highlight = {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    elif mark_unit_code:
        grid.highlight = _unit_code_cells(rows)
    return grid


def _unit_code_cells(rows: list[list[str]]) -> set[tuple[int, int]]:
    for r, row in enumerate(rows[:weekly_form.HEADER_ROWS]):
        for c, text in enumerate(row):
            if safety.fold(text).startswith("ma don vi"):
                after = text.split(":", 1)[1].strip() if ":" in text else ""
                if after:
                    return {(r, c)}
                following = next((k for k in range(c + 1, len(row)) if row[k]), None)
                return {(r, c)} | ({(r, following)} if following is not None else set())
    return set()


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
