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


# ------------------------------------------------------------------------------------- hand-made forms

def write_hand_forms() -> None:
    """The weekly forms made by hand-like means (hand_forms.py), their details in weekly_form_details.json.

    `build_corpus.py weekly_form_hand` rewrites only these (and their expected.json entries)."""
    sys.path.insert(0, str(HERE))
    import hand_forms

    details = hand_forms.build(put)
    (HERE / "weekly_form_details.json").write_text(
        json.dumps(dict(sorted(details.items())), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def rebuild_part(write) -> None:
    """Rewrite one group of hand-made cases (`write()`) and their expected.json entries, nothing else."""
    expected.update(json.loads((HERE / "expected.json").read_text(encoding="utf-8")))
    write()
    (HERE / "expected.json").write_text(json.dumps(dict(sorted(expected.items())), ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")


def rebuild_hand_forms() -> None:
    rebuild_part(write_hand_forms)


# ------------------------------------------------------------------------------------- identity registers

IDENTITY_UNIT = "03388"
# (household code, phone as a CSV text, phone as an XLSX cell, CCCD/CMND as CSV text, as an XLSX cell,
#  canonical phone, canonical citizen id): one household, two spellings, one identity (landing.identity)
IDENTITY_ROWS = (
    ("HHID-01", "+84 (0) 971 074 803", 971074803, "001-234-567-890", 1234567890, "0971074803", "001234567890"),
    ("HHID-02", "0084 345963856", 345963856.0, "012 345 678 901", 12345678901, "0345963856", "012345678901"),
    ("HHID-03", "0912.345.678", 84912345678, "012345678", 12345678, "0912345678", "cmnd:012345678"),
    ("HHID-04", "(086) 123-4567", "+84861234567", "036095000123", "036 095 000 123", "0861234567",
     "036095000123"),
    ("HHID-05", "12345", 12345, "", None, "12345", None),
    ("HHID-06", "+66 81 234 5678", "0066812345678", "123", 123, "+66812345678", "other:123"),
)


def write_identity_registers() -> None:
    """Two snapshots of the same households, phones and IDs typed differently (CSV text; XLSX number
    cells that lost their zeros): both land with the same pseudonyms. The canonical text of each
    value in household_register_identity.json (tests/test_corpus.py hashes it and compares).

    `build_corpus.py household_register_identity` rewrites only these (and their expected.json entries)."""
    import openpyxl

    header = ["Mã hộ", "Họ tên chủ hộ", "Số điện thoại", "Số CCCD", "Mã xã", "Loại hộ", "Sản phẩm chính",
              "Ngày đào tạo kỹ năng số", "Ngày đào tạo đóng gói - kết nối - giao nhận", "Mức độ đào tạo"]
    rest = [IDENTITY_UNIT, "Hộ SXNN", "Chè", "", "", ""]
    csv_name = f"danh_sach_ho_{IDENTITY_UNIT}_20260908.csv"
    xlsx_name = f"danh_sach_ho_{IDENTITY_UNIT}_20260909.xlsx"
    rows = [[code, "Hộ Thử Nghiệm", phone, cid, *rest] for code, phone, _, cid, _, _, _ in IDENTITY_ROWS]
    put("household_register", csv_name, csv_bytes([header, *rows], ","), "accepted")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for code, _, phone, _, cid, _, _ in IDENTITY_ROWS:
        ws.append([code, "Hộ Thử Nghiệm", phone, cid, *rest])
    put("household_register", xlsx_name, _save(wb), "accepted")
    canonical = {code: {"phone": phone, "citizen_id": cid} for code, _, _, _, _, phone, cid in IDENTITY_ROWS}
    details = {f"household_register/{name}": canonical for name in (csv_name, xlsx_name)}
    (HERE / "household_register_identity.json").write_text(json.dumps(details, ensure_ascii=False, indent=1) + "\n",
                                                            encoding="utf-8")


# ------------------------------------------------------------------------------------- platform extracts

def _pm_order(i: int, status: str = "Thành công", kg: str = "1,5", amount: str = "150000",
              updated: str = "") -> list[str]:
    return [f"PMDH9{i:07d}", f"12/09/2026 08:{i:02d}:00", "PMGH033880001", f"PMTK9{i:05d}", "0912 345 678",
            "PMSP0338800101", "2", kg, amount, "12", "VN", status, updated]


def _vs_order(i: int, **change) -> dict:
    return {"order_id": f"VSDH9{i:07d}", "ordered_at": f"2026-09-12T01:{i:02d}:00Z", "shop_id": "VSSH033880001",
            "buyer_account_id": f"VSTK9{i:05d}", "buyer_phone": "+84 912 345 678", "product_id": "VSSP0338800101",
            "quantity": 1, "weight_g": 2500, "amount_vnd": 120000, "buyer_province_code": "12",
            "buyer_country": "VN", "status": "delivered", "updated_at": f"2026-09-12T02:{i:02d}:00Z"} | change


def write_platform_field_cases() -> None:
    """Platform extracts as VNPost (postmart: BOM, ';', CRLF, quoted fields with ';' inside, decimal comma)
    and Viettel Post (voso: gzip JSON Lines, UTC) send them, cut off, padded with separators, repeating a
    line, or with a timestamp whose time zone is not fixed. Refused ones: code and line in
    platform_details.json; accepted ones: the exact rows landed (phones unhashed: None) and the number of
    exact duplicate lines collapsed.

    Dates after the good batch's week of tests/test_corpus.py (W38), so the names never collide.

    `build_corpus.py platform_field` rewrites only these (and their expected.json entries)."""
    from lensan.landing.platforms import spec

    details: dict[str, dict] = {}
    orders = [h for h, _, _ in spec.POSTMART["don_hang"][1]]
    products = [h for h, _, _ in spec.POSTMART["san_pham"][1]]

    def pm(name: str, data: bytes, outcome: str, **detail) -> None:
        put("postmart", name, data, outcome)
        details[f"postmart/{name}"] = detail

    def vs(name: str, data: bytes, outcome: str, **detail) -> None:
        put("voso", name, data, outcome)
        details[f"voso/{name}"] = detail

    # accepted: separator-only lines skipped, an exact duplicate line kept once, decimal comma, typed amounts
    rows = [_pm_order(1), _pm_order(2, kg="12,75", amount="1.250.000"), [""] * 13,
            _pm_order(3, status="Hủy", updated="13/09/2026 09:00:00"), _pm_order(1), [""] * 6,
            _pm_order(4, status="Hoàn", kg="0,5", updated="14/09/2026 10:30:00"), [""] * 13]
    landed = [_pm_order(1), _pm_order(2, kg="12,75", amount="1.250.000"),
              _pm_order(3, status="Hủy", updated="13/09/2026 09:00:00"),
              _pm_order(4, status="Hoàn", kg="0,5", updated="14/09/2026 10:30:00")]
    pm("postmart_don_hang_20260921.csv", csv_bytes([orders, *rows], ";"), "accepted",
       rows=[[None if i == 4 else (v or None) for i, v in enumerate(r)] for r in landed], repeats=1)
    # accepted: product names quoted because they hold ';' (and a doubled quote)
    product_rows = [
        ["PMSP0338800201", "PMGH033880001", "Gạo ST25; túi 5kg", "Nông sản", "Gạo", "4", "Có", "Có", "Không",
         "12/09/2026 07:30:00"],
        ["PMSP0338800202", "PMGH033880001", 'Chè "Tân Cương"; hộp 200g', "Nông sản", "Chè", "3", "Có", "Không",
         "Có", "12/09/2026 08:00:00"],
        [""] * 10,
        ["PMSP0338800203", "PMGH033880002", "Phân bón NPK 16-16-8", "Đầu vào", "Phân bón", "0", "Không", "Không",
         "Có", "12/09/2026 09:45:00"],
    ]
    pm("postmart_san_pham_20260925.csv", csv_bytes([products, *product_rows], ";"), "accepted",
       rows=[r for r in product_rows if r[0]], repeats=0)
    # refused: cut off in the middle of a row (the amount '966' of '966000', the rest lost)
    whole = csv_bytes([orders] + [_pm_order(i, amount="966000") for i in range(1, 6)], ";")
    pm("postmart_don_hang_20260922.csv", whole[:whole.rindex(b"966000") + 3], "TRUNCATED_ROW", where="line 6")
    # refused: cut off inside a quoted product name
    whole = csv_bytes([products, *product_rows], ";")
    pm("postmart_san_pham_20260926.csv", whole[:whole.index("túi".encode("utf-8"))], "TRUNCATED_ROW",
       where="line 2")
    # refused: a separator lost in the middle of the file (weight and amount run together)
    rows = [_pm_order(i) for i in range(1, 6)]
    rows[2] = rows[2][:7] + [rows[2][7] + rows[2][8]] + rows[2][9:]
    pm("postmart_don_hang_20260924.csv", csv_bytes([orders, *rows], ";"), "TRUNCATED_ROW", where="line 4")

    # voso: a timestamp without its time zone (UTC by contract, never guessed)
    vs("voso_orders_2026-09-21.jsonl.gz",
       gz([_vs_order(1), _vs_order(2, updated_at="2026-09-12T04:00:00"), _vs_order(3)]), "MISSING_TIME_ZONE",
       where="line 2, column 'updated_at'")
    # voso: the last line cut off before the file was compressed
    text = "".join(json.dumps(_vs_order(i), ensure_ascii=False) + "\n" for i in range(1, 5))
    vs("voso_orders_2026-09-22.jsonl.gz", gz(text[:text.rindex('"amount_vnd"')]), "TRUNCATED_ROW", where="line 4")
    # voso accepted: an offset fixes the zone, a blank line, an exact duplicate line
    good = [_vs_order(1), _vs_order(2, ordered_at="2026-09-12T08:02:00+07:00", status="returned"), _vs_order(3)]
    lines = [json.dumps(r, ensure_ascii=False) for r in good]
    vs("voso_orders_2026-09-24.jsonl.gz", gz("\n".join(lines[:2] + ["", lines[2], lines[0]]) + "\n"), "accepted",
       rows=[[str(v) if not isinstance(v, str) else v for v in r.values()] for r in good], repeats=1)
    for row in details["voso/voso_orders_2026-09-24.jsonl.gz"]["rows"]:
        row[4] = None       # the phone: hashed at landing, None unhashed
    (HERE / "platform_details.json").write_text(json.dumps(dict(sorted(details.items())), ensure_ascii=False,
                                                           indent=1) + "\n", encoding="utf-8")


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
    write_hand_forms()

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
    write_identity_registers()

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

    write_platform_field_cases()

    (HERE / "expected.json").write_text(json.dumps(dict(sorted(expected.items())), ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")
    shutil.rmtree(tmp, ignore_errors=True)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    bad = sum(1 for v in expected.values() if v != "accepted")
    print(f"{len(expected)} files ({bad} bad), {total / 1024:.0f} KiB in {HERE}")


if __name__ == "__main__":
    sys.exit(rebuild_hand_forms() if sys.argv[1:] == ["weekly_form_hand"]
             else rebuild_part(write_identity_registers) if sys.argv[1:] == ["household_register_identity"]
             else rebuild_part(write_platform_field_cases) if sys.argv[1:] == ["platform_field"]
             else build())
