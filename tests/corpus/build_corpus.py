"""Builds the bad-input corpus of tests/corpus/ from generated GOOD files plus targeted damage.

    .venv/bin/python tests/corpus/build_corpus.py

Generates one sample week (province 12 — Lai Châu, post-reform map — week 2026-W39, fixed seed) into a
temporary LENSAN_HOME, picks one good file of each kind (weekly form, household register, postmart
orders/shops, voso orders/shops) and writes damaged copies into tests/corpus/<source>/, each named
after the damage. `expected.json` maps "<source>/<file>" to the outcome `lensan.landing.check_file`
must report: a reason code of `lensan.landing.errors.CODES`, or "accepted" (good files and a resend).

The built files are committed (small, deterministic given the generator); re-run this script after
a change of the generator or of the formats and review the diff. Platform file names carry distinct
dates in September 2026 so the corpus never collides with a generated good batch of other weeks.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROVINCE = "12"
WEEK = "2026-W39"            # 21–27/09/2026
SEED = 20260927
SOURCES = ("weekly_form", "household_register", "postmart", "voso")

expected: dict[str, str] = {}


def put(source: str, name: str, data: bytes, outcome: str) -> None:
    path = HERE / source / name
    path.write_bytes(data)
    expected[f"{source}/{name}"] = outcome


# ------------------------------------------------------------------------------------- XLSX helpers

def _load(data: bytes):
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def _save(wb) -> bytes:
    import datetime as dt

    stamp = dt.datetime(2026, 9, 28, 8, 0, 0)
    wb.properties.created = wb.properties.modified = stamp   # byte-stable rebuilds
    out = io.BytesIO()
    wb.save(out)
    return _fixed_zip_times(out.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times so the corpus is byte-stable across builds."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 9, 28, 8, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time there
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-09-28T08:00:00Z", payload)
            dst.writestr(entry, payload)
    return out.getvalue()


def _plain(text: str) -> str:
    """Case- and diacritics-insensitive form of a label ('MÃ ĐƠN VỊ:' -> 'ma don vi:')."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()


def _find(ws, predicate):
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        for cell in row:
            if isinstance(cell.value, str) and predicate(cell.value):
                return cell
    raise LookupError("cell not found")


def _indicator_row(ws, section: str, number: int | None):
    """Row index of an indicator row (section 'I' has no number)."""
    current = None
    for r in range(1, ws.max_row + 1):
        tt = ws.cell(row=r, column=1).value
        if isinstance(tt, str) and tt.strip() in ("I", "II", "III", "IV"):
            current = tt.strip()
            if section == current and number is None:
                return r
        elif current == section and tt is not None and str(tt).strip() == str(number):
            return r
    raise LookupError((section, number))


def form_variant(good: bytes, edit) -> bytes:
    wb = _load(good)
    edit(wb.active)
    return _save(wb)


def zip_replace(good: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 9, 28, 8, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, payload in (add or {}).items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 9, 28, 8, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, payload)
    return out.getvalue()


# ------------------------------------------------------------------------------------- CSV / JSONL helpers

def csv_rows(data: bytes, delimiter: str) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def csv_bytes(rows: list[list[str]], delimiter: str, bom: bool = True, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = out.getvalue()
    if encoding != "utf-8":
        return unicodedata.normalize("NFD", text).encode(encoding, errors="replace")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip()]


def gz(rows_or_text, mtime: int = 0) -> bytes:
    text = rows_or_text if isinstance(rows_or_text, str) else \
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows_or_text)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=mtime) as fh:
        fh.write(text.encode("utf-8"))
    return out.getvalue()


# ------------------------------------------------------------------------------------- build

def build() -> None:
    os.environ.setdefault("LENSAN_PSEUDONYM_KEY", "corpus-build-key")
    tmp = Path(tempfile.mkdtemp(prefix="lensan-corpus-"))
    os.environ["LENSAN_HOME"] = str(tmp)
    from lensan_dev import generate

    generate.generate([PROVINCE], [WEEK], seed=SEED, home=tmp, orders_per_unit_week=12)
    landing = tmp / "landing"
    for source in SOURCES:
        shutil.rmtree(HERE / source, ignore_errors=True)
        (HERE / source).mkdir(parents=True)

    # ---------------------------------------------------------------- S1 weekly form
    forms = sorted(p for p in (landing / "weekly_form").glob("*.xlsx") if "_2." not in p.name)
    good_path = forms[0]
    unit = good_path.name.split("_")[3]
    good = good_path.read_bytes()
    base = f"bao_cao_tuan_{unit}_{WEEK}"
    put("weekly_form", good_path.name, good, "accepted")

    def resend(ws):
        r = _indicator_row(ws, "I", None)
        ws.cell(row=r, column=4).value = 4
        ws.cell(row=r, column=8).value = "Gửi lại: sửa số liệu"
    put("weekly_form", f"{base}_2.xlsx", form_variant(good, resend), "accepted")

    def set_header(prefix, value):
        """Replace a header line (label and value, whether typed in one cell or in A and B)."""
        def edit(ws):
            found = _find(ws, lambda v: _plain(v).startswith(_plain(prefix)))
            found.value = value
            right = ws.cell(row=found.row, column=2)
            if found.column == 1 and type(right).__name__ != "MergedCell":
                right.value = None
        return edit

    put("weekly_form", f"{base}_khong_dung_mau.xlsx",
        form_variant(good, set_header("báo cáo tuần", "BẢNG TỔNG HỢP")), "TEMPLATE_NOT_RECOGNISED")
    put("weekly_form", f"{base}_thieu_ma_don_vi.xlsx",
        form_variant(good, set_header("mã đơn vị", "Đơn vị: ")), "MISSING_UNIT_CODE")
    put("weekly_form", f"{base}_ma_don_vi_la.xlsx",
        form_variant(good, set_header("mã đơn vị", "Mã đơn vị: 99999")), "UNKNOWN_UNIT")
    put("weekly_form", f"{base}_ma_huyen_cu.xlsx",
        form_variant(good, set_header("mã đơn vị", "Mã đơn vị: 001")), "WRONG_MAP_UNIT")
    put("weekly_form", "bao_cao_tuan_tuan_tuong_lai.xlsx",
        form_variant(good, set_header("tuần", "Tuần 1/2099 (từ ngày 29/12/2098 đến ngày 04/01/2099)")),
        "FUTURE_PERIOD")
    put("weekly_form", f"{base}_sai_dong_tuan.xlsx",
        form_variant(good, set_header("tuần", "Tuần 39/2026 (từ ngày 22/09/2026 đến ngày 29/09/2026)")),
        "BAD_WEEK")

    def header_cell(col, value):
        def edit(ws):
            head = _find(ws, lambda v: v.strip() == "TT")
            ws.cell(row=head.row, column=col).value = value
        return edit

    put("weekly_form", f"{base}_thieu_cot.xlsx", form_variant(good, header_cell(8, None)), "MISSING_COLUMN")
    put("weekly_form", f"{base}_cot_la.xlsx", form_variant(good, header_cell(9, "Cột thêm")), "UNEXPECTED_COLUMN")

    def cell(section, number, col, value):
        def edit(ws):
            ws.cell(row=_indicator_row(ws, section, number), column=col).value = value
        return edit

    put("weekly_form", f"{base}_chu_trong_o_so.xlsx", form_variant(good, cell("II", 3, 4, "khoảng 20")),
        "VALUE_NOT_NUMBER")
    put("weekly_form", f"{base}_so_am.xlsx", form_variant(good, cell("II", 3, 6, "-5")), "NEGATIVE_COUNT")
    put("weekly_form", f"{base}_phan_tram_ngoai_khoang.xlsx", form_variant(good, cell("II", 1, 5, "-150%")),
        "PERCENT_OUT_OF_RANGE")
    put("weekly_form", f"{base}_dong_chi_tieu_la.xlsx", form_variant(good, cell("II", 4, 1, 9)),
        "UNKNOWN_INDICATOR_ROW")

    sheet = next(n for n in zipfile.ZipFile(io.BytesIO(good)).namelist() if n.startswith("xl/worksheets/sheet"))
    sheet_xml = zipfile.ZipFile(io.BytesIO(good)).read(sheet)
    decl_end = sheet_xml.index(b"?>") + 2 if sheet_xml.startswith(b"<?xml") else 0
    attack = (sheet_xml[:decl_end] + b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
              + sheet_xml[decl_end:])
    put("weekly_form", f"{base}_xml_entity.xlsx", zip_replace(good, replace={sheet: attack}), "UNSAFE_FILE")
    put("weekly_form", f"{base}_zip_bomb.xlsx", zip_replace(good, add={"xl/media/padding.bin": b"\0" * (3 << 20)}),
        "UNSAFE_FILE")
    put("weekly_form", f"{base}_khong_phai_xlsx.xlsx", "TT;Chỉ tiêu\r\nI;OCOP\r\n".encode("utf-8"), "UNREADABLE")
    put("weekly_form", f"{base}_rong.xlsx", b"", "EMPTY_FILE")

    # ---------------------------------------------------------------- S2 household register
    registers = sorted((landing / "household_register").glob("*.csv"))
    reg_path = registers[0]
    reg_unit = reg_path.name.split("_")[3]
    reg_rows = csv_rows(reg_path.read_bytes(), ",")
    header, body = reg_rows[0], reg_rows[1:]
    put("household_register", reg_path.name, csv_bytes(reg_rows, ",", bom=True), "accepted")

    def reg(name_date, rows, outcome, **kw):
        put("household_register", f"danh_sach_ho_{kw.pop('unit', reg_unit)}_{name_date}.csv",
            csv_bytes(rows, ",", **kw), outcome)

    reg("20260901", reg_rows, "UNREADABLE", encoding="cp1258")
    reg("20260902", [header[:-1]] + [r[:-1] for r in body], "MISSING_COLUMN")
    reg("20260903", [header] + body + [body[0]], "DUPLICATE_HOUSEHOLD_CODE")
    date_col = header.index(next(h for h in header if h.startswith("Ngày đào tạo kỹ năng")))
    bad = [list(r) for r in body]
    bad[0][date_col] = "31/02/2026"
    reg("20260904", [header] + bad, "BAD_DATE")
    missing = [list(r) for r in body]
    missing[0][0] = ""
    reg("20260905", [header] + missing, "MISSING_VALUE")
    # (fewer rows: every corpus file has distinct bytes, or landing would see a duplicate)
    reg("20260906", reg_rows[:3], "UNKNOWN_UNIT", unit="99999")
    reg("20991231", reg_rows[:4], "FUTURE_PERIOD")
    put("household_register", f"danh_sach_ho_{reg_unit}_20260907.xlsx", csv_bytes(reg_rows[:2], ","), "UNREADABLE")

    # ---------------------------------------------------------------- S3 postmart
    def biggest(pattern):
        return max((landing / pattern[0]).glob(pattern[1]), key=lambda p: (p.stat().st_size, p.name))

    orders_path = biggest(("postmart", "postmart_don_hang_*.csv"))
    o_rows = csv_rows(orders_path.read_bytes(), ";")
    o_head, o_body = o_rows[0], o_rows[1:]
    put("postmart", orders_path.name, orders_path.read_bytes(), "accepted")

    def pm(entity, day, rows, outcome, **kw):
        put("postmart", f"postmart_{entity}_202609{day:02d}.csv", csv_bytes(rows, ";", **kw), outcome)

    def with_cell(rows, column, value, row=0):
        out = [list(r) for r in rows]
        out[1 + row][rows[0].index(column)] = value
        return out

    pm("don_hang", 1, o_rows, "UNREADABLE", encoding="cp1258")
    pm("don_hang", 2, [o_head[:-1]] + [r[:-1] for r in o_body], "MISSING_COLUMN")
    pm("don_hang", 3, with_cell(o_rows, "Thời gian đặt", "31/02/2026 10:00:00"), "BAD_DATE")
    pm("don_hang", 4, with_cell(o_rows, "Thành tiền (VNĐ)", "một trăm nghìn"), "VALUE_NOT_NUMBER")
    pm("don_hang", 5, with_cell(o_rows, "Số lượng", "-3"), "NEGATIVE_COUNT")
    dup = [list(r) for r in o_rows] + [list(o_body[0])]
    dup[-1][o_head.index("Số lượng")] = str(int(dup[-1][o_head.index("Số lượng")]) + 5)
    pm("don_hang", 6, dup, "DUPLICATE_ORDER_ID")
    pm("don_hang", 7, with_cell(o_rows, "Mã đơn hàng", ""), "MISSING_VALUE")
    pm("don_hang", 8, [o_head + ["Ghi chú"]] + [r + ["x"] for r in o_body], "UNEXPECTED_COLUMN")
    shops_path = biggest(("postmart", "postmart_gian_hang_*.csv"))
    s_rows = csv_rows(shops_path.read_bytes(), ";")
    pm("gian_hang", 9, with_cell(s_rows, "Ví VNPostPay", "Yes"), "BAD_BOOLEAN")
    put("postmart", "postmart_don_hang_20260231.csv", csv_bytes(o_rows[:2], ";"), "BAD_DATE")
    put("postmart", "postmart_khach_hang_20260910.csv", csv_bytes(o_rows[:3], ";"), "UNKNOWN_SOURCE")
    put("postmart", "postmart_don_hang_20991231.csv", csv_bytes(o_rows[:4], ";"), "FUTURE_PERIOD")
    put("postmart", "postmart_don_hang_20260911.csv", "\r\n".join(";".join(r) for r in o_rows).encode("utf-16"),
        "UNREADABLE")

    # ---------------------------------------------------------------- S4 voso
    vo_path = biggest(("voso", "voso_orders_*.jsonl.gz"))
    v_rows = jsonl(vo_path.read_bytes())
    put("voso", vo_path.name, vo_path.read_bytes(), "accepted")

    def vs(entity, day, payload, outcome):
        put("voso", f"voso_{entity}_2026-09-{day:02d}.jsonl.gz", payload, outcome)

    whole = gz(v_rows)
    vs("orders", 1, whole[: len(whole) // 2], "TRUNCATED")
    vs("orders", 2, "".join(json.dumps(r) + "\n" for r in v_rows).encode("utf-8"), "UNREADABLE")
    vs("orders", 3, gz("".join(json.dumps(r) + "\n" for r in v_rows[:1]) + '{"order_id": "VSOR-broken", \n'),
       "UNREADABLE")
    vs("orders", 4, gz([{k: v for k, v in r.items() if k != "weight_g"} for r in v_rows]), "MISSING_COLUMN")
    vs("orders", 5, gz([dict(r, ordered_at="2026-09-31T10:00:00Z") if i == 0 else r for i, r in enumerate(v_rows)]),
       "BAD_DATE")
    vs("orders", 6, gz([dict(r, weight_g=-1200) if i == 0 else r for i, r in enumerate(v_rows)]), "NEGATIVE_COUNT")
    vs("orders", 7, gz(v_rows + [dict(v_rows[0], quantity=int(v_rows[0]["quantity"]) + 7)]), "DUPLICATE_ORDER_ID")
    vs("orders", 8, gz([dict(r, amount_vnd="nhiều") if i == 0 else r for i, r in enumerate(v_rows)]),
       "VALUE_NOT_NUMBER")
    vshops = jsonl(biggest(("voso", "voso_shops_*.jsonl.gz")).read_bytes())
    vs("shops", 9, gz([dict(r, has_ewallet="yes") if i == 0 else r for i, r in enumerate(vshops)]), "BAD_BOOLEAN")
    vs("orders", 10, gz(json.dumps(v_rows)), "UNREADABLE")     # a JSON array, not JSON Lines

    (HERE / "expected.json").write_text(json.dumps(dict(sorted(expected.items())), ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")
    shutil.rmtree(tmp, ignore_errors=True)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    bad = sum(1 for v in expected.values() if v != "accepted")
    print(f"{len(expected)} files ({bad} bad), {total / 1024:.0f} KiB in {HERE}")


if __name__ == "__main__":
    sys.exit(build())
