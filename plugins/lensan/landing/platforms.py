"""S3/S4 — platform extracts: postmart.vn CSV and voso.vn JSON Lines (gzip), streamed.

`describe(name)` recognises the platform, entity, raw table and extract date from the file name;
`records(path, extract, hasher)` yields one tuple of raw text values per data row (personal columns
already hashed), validating dates, booleans, numbers, required ids and duplicate order ids on the
way. Nothing is held in memory but the order ids seen (for DUPLICATE_ORDER_ID), so national files
of ~1M rows stream straight into COPY.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from lensan.landing import safety
from lensan.landing.errors import EXTRA_DATA, LandingError, where_line
from lensan.landing.numbers import NotANumber, parse_vn_number

# column kinds
ID, TEXT, PHONE, DATETIME, DATETIME_OPT, BOOL, NUM = "id", "text", "phone", "datetime", "datetime_opt", "bool", "num"

POSTMART: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "gian_hang": ("postmart_shops", [
        ("Mã gian hàng", "shop_id", ID), ("SĐT chủ gian hàng", "owner_phone_hash", PHONE),
        ("Mã hộ SXNN", "household_code", TEXT), ("Mã xã", "commune_code", TEXT),
        ("Ngày tạo", "created_at", DATETIME), ("Ví VNPostPay", "has_epay", BOOL), ("Trạng thái", "status", TEXT)]),
    "san_pham": ("postmart_products", [
        ("Mã sản phẩm", "product_id", ID), ("Mã gian hàng", "shop_id", ID), ("Tên sản phẩm", "product_name", TEXT),
        ("Nhóm sản phẩm", "product_group", TEXT), ("Loại sản phẩm", "product_type", TEXT),
        ("Số sao OCOP", "ocop_stars", NUM), ("Truy xuất nguồn gốc", "traceable", BOOL),
        ("Gắn nhãn thương hiệu", "brand_marked", BOOL), ("Ưu đãi cho hộ SXNN", "household_discount", BOOL),
        ("Ngày đăng", "listed_at", DATETIME)]),
    "don_hang": ("postmart_orders", [
        ("Mã đơn hàng", "order_id", ID), ("Thời gian đặt", "ordered_at", DATETIME),
        ("Mã gian hàng bán", "shop_id", ID), ("Mã tài khoản mua", "buyer_account_id", TEXT),
        ("SĐT người mua", "buyer_phone_hash", PHONE), ("Mã sản phẩm", "product_id", TEXT),
        ("Số lượng", "quantity", NUM), ("Khối lượng (kg)", "weight_kg", NUM), ("Thành tiền (VNĐ)", "amount_vnd", NUM),
        ("Mã tỉnh người mua", "buyer_province_code", TEXT), ("Quốc gia người mua", "buyer_country", TEXT),
        ("Trạng thái", "status", TEXT), ("Thời gian cập nhật", "updated_at", DATETIME_OPT)]),
    "hoat_dong": ("postmart_activity", [
        ("Mã tài khoản", "account_id", ID), ("Thời gian", "occurred_at", DATETIME),
        ("Loại hoạt động", "activity_type", TEXT), ("Mã xã", "commune_code", TEXT)]),
    "thong_tin": ("postmart_info_posts", [
        ("Mã bài", "post_id", ID), ("Chuyên mục", "category", TEXT), ("Mã tỉnh", "province_code", TEXT),
        ("Thời gian đăng", "posted_at", DATETIME)]),
}

VOSO: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "shops": ("voso_shops", [
        ("shop_id", "shop_id", ID), ("owner_phone", "owner_phone_hash", PHONE),
        ("household_code", "household_code", TEXT), ("ward_code", "commune_code", TEXT),
        ("created_at", "created_at", DATETIME), ("has_ewallet", "has_epay", BOOL), ("status", "status", TEXT)]),
    "products": ("voso_products", [
        ("product_id", "product_id", ID), ("shop_id", "shop_id", ID), ("name", "product_name", TEXT),
        ("product_group", "product_group", TEXT), ("product_type", "product_type", TEXT),
        ("ocop_stars", "ocop_stars", NUM), ("traceable", "traceable", BOOL), ("brand_marked", "brand_marked", BOOL),
        ("household_discount", "household_discount", BOOL), ("listed_at", "listed_at", DATETIME)]),
    "orders": ("voso_orders", [
        ("order_id", "order_id", ID), ("ordered_at", "ordered_at", DATETIME), ("shop_id", "shop_id", ID),
        ("buyer_account_id", "buyer_account_id", TEXT), ("buyer_phone", "buyer_phone_hash", PHONE),
        ("product_id", "product_id", TEXT), ("quantity", "quantity", NUM), ("weight_g", "weight_g", NUM),
        ("amount_vnd", "amount_vnd", NUM), ("buyer_province_code", "buyer_province_code", TEXT),
        ("buyer_country", "buyer_country", TEXT), ("status", "status", TEXT),
        ("updated_at", "updated_at", DATETIME_OPT)]),
    "activities": ("voso_activity", [
        ("account_id", "account_id", ID), ("occurred_at", "occurred_at", DATETIME),
        ("activity_type", "activity_type", TEXT), ("ward_code", "commune_code", TEXT)]),
    "info_posts": ("voso_info_posts", [
        ("post_id", "post_id", ID), ("category", "category", TEXT), ("province_code", "province_code", TEXT),
        ("posted_at", "posted_at", DATETIME)]),
}

_POSTMART_NAME = re.compile(r"^postmart_(?P<entity>[a-z_]+?)_(?P<date>[^_]+)\.csv$", re.IGNORECASE)
_VOSO_NAME = re.compile(r"^voso_(?P<entity>[a-z_]+?)_(?P<date>[^_]+)\.jsonl\.gz$", re.IGNORECASE)
_LOCAL_DT = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
_POSTMART_BOOL = {"Có", "Không"}
_PLAIN_NUMBER = re.compile(r"^\d+(?:,\d+)?$")
_FOLDED_BOOL = {"co": "Có", "khong": "Không"}

Hasher = Callable[[str, object], "str | None"]
_PLAIN_KINDS = frozenset({TEXT, PHONE})   # kept as typed, no validation


@dataclass(frozen=True)
class Extract:
    platform: str                          # postmart | voso
    entity: str                            # gian_hang ... / shops ...
    table: str                             # raw table name (from the fixed catalogue above, never from input)
    spec: tuple[tuple[str, str, str], ...]  # (heading or field, raw column, kind)
    extract_date: dt.date

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for _, c, _ in self.spec)


def describe(name: str, platform: str | None = None) -> Extract:
    lower = name.lower()
    platform = platform or ("postmart" if lower.startswith("postmart_") else "voso" if lower.startswith("voso_")
                            else None)
    if platform == "postmart":
        pattern, catalogue, fmt, expected = (_POSTMART_NAME, POSTMART, "%Y%m%d",
                                             "postmart_<gian_hang|san_pham|don_hang|hoat_dong|thong_tin>_<yyyymmdd>.csv")
    elif platform == "voso":
        pattern, catalogue, fmt, expected = (_VOSO_NAME, VOSO, "%Y-%m-%d",
                                             "voso_<shops|products|orders|activities|info_posts>_<yyyy-mm-dd>.jsonl.gz")
    else:
        raise LandingError("UNKNOWN_SOURCE", name=name, expected="postmart_*.csv | voso_*.jsonl.gz")
    match = pattern.match(name)
    if not match:
        raise LandingError("UNKNOWN_SOURCE", name=name, expected=expected)
    entity = match["entity"].lower()
    if entity not in catalogue:
        raise LandingError("UNKNOWN_SOURCE", name=name, expected=expected)
    try:
        extract_date = dt.datetime.strptime(match["date"], fmt).date()
    except ValueError:
        raise LandingError("BAD_DATE", ("trong tên tệp", "in the file name"), value=match["date"],
                           expected=fmt.replace("%Y", "yyyy").replace("%m", "mm").replace("%d", "dd")) from None
    table, spec = catalogue[entity]
    return Extract(platform, entity, table, tuple(spec), extract_date)


# ---------------------------------------------------------------------------------------- postmart

def _check_postmart_value(kind: str, value: str, line: int, heading: str) -> str | None:
    if value == "":
        if kind == ID or kind == DATETIME:
            raise LandingError("MISSING_VALUE", where_line(line, heading))
        return None
    if kind == DATETIME or kind == DATETIME_OPT:
        match = _LOCAL_DT.match(value)
        try:
            if not match:
                raise ValueError
            dt.datetime(int(match[3]), int(match[2]), int(match[1]), int(match[4]), int(match[5]), int(match[6]))
        except ValueError:
            raise LandingError("BAD_DATE", where_line(line, heading), value=value,
                               expected="dd/mm/yyyy HH:MM:SS") from None
    elif kind == BOOL:
        if value not in _POSTMART_BOOL:
            folded = _FOLDED_BOOL.get(safety.fold(value))
            if folded is None:
                raise LandingError("BAD_BOOLEAN", where_line(line, heading), value=value, expected="Có/Không")
            return folded
    elif kind == NUM:
        if _PLAIN_NUMBER.match(value):  # fast path for the usual '150000' / '1,5'
            return value
        try:
            number = parse_vn_number(value)
        except NotANumber:
            raise LandingError("VALUE_NOT_NUMBER", where_line(line, heading), value=value) from None
        if number is not None and number < 0:
            raise LandingError("NEGATIVE_COUNT", where_line(line, heading), value=value)
    return value


def _postmart_rows(path: Path, extract: Extract) -> Iterator[tuple[int, list[str | None]]]:
    headings = [h for h, _, _ in extract.spec]
    expected = [safety.fold_heading(h) for h in headings]
    kinds = [k for _, _, k in extract.spec]
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=";", quotechar='"')
            header = next(reader, None)
            if header is None:
                raise LandingError("EMPTY_FILE")
            keys = [safety.fold_heading(h) for h in header]
            while keys and not keys[-1]:
                keys.pop()
            for i, key in enumerate(expected):
                if key not in keys:
                    raise LandingError("MISSING_COLUMN", where_line(1), column=headings[i])
            for i, key in enumerate(keys):
                if i >= len(expected) or key != expected[i]:
                    raise LandingError("UNEXPECTED_COLUMN", where_line(1, str(i + 1)), found=header[i],
                                       expected=headings[i] if i < len(headings) else "(không có / none)")
            width = len(expected)
            for line, values in enumerate(reader, start=2):
                if len(values) != width:
                    if not values or all(not v.strip() for v in values):
                        continue
                    if len(values) > width and any(v.strip() for v in values[width:]):
                        raise LandingError("UNEXPECTED_COLUMN", where_line(line, str(width + 1)),
                                           found=EXTRA_DATA, expected="(không có / none)")
                    values = (values + [""] * width)[:width]
                yield line, [(values[i].strip() or None) if kinds[i] in _PLAIN_KINDS
                             else _check_postmart_value(kinds[i], values[i].strip(), line, headings[i])
                             for i in range(width)]
    except UnicodeDecodeError as exc:
        raise LandingError("UNREADABLE", expected="CSV UTF-8",
                           reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise LandingError("UNREADABLE", expected="CSV UTF-8", reason=str(exc)) from None


# -------------------------------------------------------------------------------------------- voso

def _check_voso_value(kind: str, value: object, line: int, field: str) -> str | None:
    if value is None or value == "":
        if kind == ID or kind == DATETIME:
            raise LandingError("MISSING_VALUE", where_line(line, field))
        return None
    if kind == BOOL:
        if value is True:
            return "true"
        if value is False:
            return "false"
        raise LandingError("BAD_BOOLEAN", where_line(line, field), value=json.dumps(value, ensure_ascii=False),
                           expected="true/false")
    if kind == DATETIME or kind == DATETIME_OPT:
        text = value if isinstance(value, str) else None
        try:
            if text is None or len(text) < 10:
                raise ValueError
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise LandingError("BAD_DATE", where_line(line, field), value=json.dumps(value, ensure_ascii=False),
                               expected="ISO-8601, e.g. 2026-11-16T03:15:00Z") from None
        return text
    if kind == NUM:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise LandingError("VALUE_NOT_NUMBER", where_line(line, field), value=json.dumps(value))
        if isinstance(value, str):
            try:
                number = parse_vn_number(value)
            except NotANumber:
                raise LandingError("VALUE_NOT_NUMBER", where_line(line, field), value=value) from None
            if number is not None and number < 0:
                raise LandingError("NEGATIVE_COUNT", where_line(line, field), value=value)
            return value
        if value < 0:
            raise LandingError("NEGATIVE_COUNT", where_line(line, field), value=str(value))
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _voso_rows(path: Path, extract: Extract) -> Iterator[tuple[int, list[str | None]]]:
    fields = [f for f, _, _ in extract.spec]
    kinds = [k for _, _, k in extract.spec]
    field_set = set(fields)
    limit = safety.max_gzip_uncompressed_bytes()
    total = 0
    line = 0
    rows = 0
    try:
        max_line = safety.max_line_chars()
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
            # readline(cap), never `for text in fh`: one endless line (a gzip bomb without newlines)
            # must not be held in memory whole.
            for line, text in enumerate(iter(lambda: fh.readline(max_line + 1), ""), start=1):
                total += len(text)
                if len(text) > max_line:
                    raise LandingError("UNSAFE_FILE", where_line(line),
                                       reason=f"line {line} is longer than {max_line} characters",
                                       reason_vi=f"dòng {line} dài hơn {max_line} ký tự")
                if total > limit:
                    raise LandingError("UNSAFE_FILE", reason=f"decompressed size exceeds {limit // safety.MB} MB "
                                       "(possible gzip bomb)",
                                       reason_vi=f"dung lượng giải nén vượt {limit // safety.MB} MB (nghi gzip bomb)")
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise LandingError("UNREADABLE", where_line(line), expected="JSON Lines",
                                       reason=f"line {line} is not valid JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise LandingError("UNREADABLE", where_line(line), expected="JSON Lines",
                                       reason=f"line {line} is not a JSON object")
                if record.keys() != field_set:
                    for f in fields:
                        if f not in record:
                            raise LandingError("MISSING_COLUMN", where_line(line), column=f)
                    extra = sorted(set(record) - field_set)
                    raise LandingError("UNEXPECTED_COLUMN", where_line(line), found=extra[0],
                                       expected="(không có / none)")
                rows += 1
                yield line, [_check_voso_value(kinds[i], record[fields[i]], line, fields[i])
                             for i in range(len(fields))]
    except EOFError:
        raise LandingError("TRUNCATED", rows=rows, line=line) from None
    except UnicodeDecodeError as exc:
        raise LandingError("UNREADABLE", expected="gzip JSON Lines UTF-8",
                           reason=f"not UTF-8 text ({exc.reason})") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise LandingError("UNREADABLE", expected="gzip JSON Lines", reason=f"not a valid gzip stream ({exc})") \
            from None


# ----------------------------------------------------------------------------------------- common

def records(path: Path, extract: Extract, hasher: Hasher | None = None) -> Iterator[tuple[str | None, ...]]:
    """Validated raw values per data row, in the order of `extract.columns`, personal columns hashed."""
    hasher = hasher or (lambda kind, value: None)
    phone_cols = [i for i, (_, _, k) in enumerate(extract.spec) if k == PHONE]
    order_col = extract.columns.index("order_id") if "order_id" in extract.columns else None
    seen_orders: dict[str, tuple[int, int]] = {}
    rows = _postmart_rows(path, extract) if extract.platform == "postmart" else _voso_rows(path, extract)
    for line, values in rows:
        if order_col is not None:
            order_id = values[order_col]
            fingerprint = hash(tuple(values))
            previous = seen_orders.get(order_id)
            if previous is None:
                seen_orders[order_id] = (fingerprint, line)
            elif previous[0] != fingerprint:
                raise LandingError("DUPLICATE_ORDER_ID", order_id=order_id, first_line=previous[1], line=line)
        for i in phone_cols:
            values[i] = hasher("phone", values[i]) if values[i] is not None else None
        yield tuple(values)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)


class CopyStream(io.RawIOBase):
    """A read()-able view of rows as PostgreSQL COPY text, built lazily (for cursor.copy_expert).

    Each line is `prefix columns, row_number (1-based), row values`; row values must be str or None.

    An exception from the row source is kept in `.error` (and the stream ends), so the caller can roll
    back and quarantine with the real reason rather than a COPY protocol error.
    """

    def __init__(self, rows: Iterator[tuple], prefix: tuple = (), batch: int = 2000):
        self._rows = rows
        self._prefix = "".join(_copy_field(p) + "\t" for p in prefix)
        self._batch = batch
        self._buffer = b""
        self._done = False
        self.error: BaseException | None = None
        self.row_count = 0

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        lines = []
        prefix = self._prefix
        try:
            for _ in range(self._batch):
                row = next(self._rows)
                self.row_count += 1
                text = "\t".join(["\\N" if v is None else v for v in row])
                # escape only the rare rows that need it (tab, newline, CR or backslash inside a value)
                if (text.count("\t") != len(row) - 1 or text.count("\\") != row.count(None)
                        or "\n" in text or "\r" in text):
                    text = "\t".join(_copy_field(v) for v in row)
                lines.append(prefix + str(self.row_count) + "\t" + text)
        except StopIteration:
            self._done = True
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller after the COPY
            self.error = exc
            self._done = True
            self._buffer = b""
            return
        if lines:
            self._buffer += ("\n".join(lines) + "\n").encode("utf-8")

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size is None or size < 0 or len(self._buffer) < size):
            self._fill()
        if self.error is not None:
            return b""
        if size is None or size < 0 or size >= len(self._buffer):
            chunk, self._buffer = self._buffer, b""
        else:
            chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk
