"""Machine-readable reason codes of landing, each with a Vietnamese and an English message.

A `LandingError` carries the code, both messages (formatted with the problem's specifics: the cell,
the value, the expected column...) and a JSON-serialisable `detail` dict. Landing writes them to
`<name>.reason.json` and to the `reason_*` columns of `raw.landed_files`.
"""

from __future__ import annotations

from typing import Any

# code -> (Vietnamese template, English template). Templates use str.format fields from `detail`
# plus `where_vi` / `where_en` (the location in the file, e.g. "ô D12" / "cell D12").
MESSAGES: dict[str, tuple[str, str]] = {
    "EMPTY_FILE": ("Tệp rỗng (0 byte).", "The file is empty (0 bytes)."),
    "FILE_TOO_LARGE": ("Tệp quá lớn: {size_mb} MB, vượt giới hạn {limit_mb} MB.",
                       "The file is too large: {size_mb} MB, over the {limit_mb} MB limit."),
    "UNREADABLE": ("Không đọc được tệp ({expected}): {reason}.",
                   "The file cannot be read as {expected}: {reason}."),
    "UNSAFE_FILE": ("Tệp bị từ chối vì lý do an toàn: {reason_vi}.",
                    "The file was refused for safety reasons: {reason}."),
    "TRUNCATED": ("Tệp nén gzip bị cắt cụt (kết thúc giữa chừng) {where_vi}, sau {rows} dòng dữ liệu.",
                  "The gzip file is truncated (it ends early) at {where_en}, after {rows} data rows."),
    "TRUNCATED_ROW": ("Dòng bị cắt cụt {where_vi}: {reason_vi} (tệp bị cắt giữa dòng hoặc thiếu dấu phân cách).",
                      "Truncated row at {where_en}: {reason} (the file is cut off mid-row or a separator is "
                      "missing)."),
    "MISSING_TIME_ZONE": ("Thời điểm không có múi giờ {where_vi}: '{value}' (mong đợi ISO-8601 giờ UTC, ví dụ "
                          "2026-11-16T03:15:00Z; múi giờ không bao giờ được đoán).",
                          "Timestamp without a time zone at {where_en}: '{value}' (expected ISO-8601 UTC, e.g. "
                          "2026-11-16T03:15:00Z; the time zone is never guessed)."),
    "UNKNOWN_SOURCE": ("Không nhận diện được nguồn từ nội dung hay tên tệp '{name}' (mong đợi dạng {expected}).",
                       "The source cannot be recognised from the content or the file name '{name}' "
                       "(expected {expected})."),
    "TEMPLATE_NOT_RECOGNISED": ("Không nhận diện được mẫu báo cáo: {reason_vi}.",
                                "The report template is not recognised: {reason}."),
    "MISSING_COLUMN": ("Thiếu cột '{column}' ({where_vi}).", "Column '{column}' is missing ({where_en})."),
    "UNEXPECTED_COLUMN": ("Cột không mong đợi '{found}' {where_vi} (mong đợi '{expected}').",
                          "Unexpected column '{found}' at {where_en} (expected '{expected}')."),
    "MISSING_UNIT_CODE": ("Không tìm thấy mã đơn vị ({where_vi}).", "The unit code is missing ({where_en})."),
    "UNKNOWN_UNIT": ("Mã đơn vị '{code}' không phải đơn vị báo cáo trên bản đồ hành chính {map_version} "
                     "(áp dụng cho {period}).",
                     "Unit code '{code}' is not a reporting unit of the {map_version} administrative map "
                     "(in force for {period})."),
    "WRONG_MAP_UNIT": ("Mã đơn vị '{code}' thuộc bản đồ hành chính {other_map}, nhưng kỳ {period} dùng bản đồ "
                       "{map_version} (trước 01/07/2025: mã huyện 3 chữ số; từ 01/07/2025: mã xã 5 chữ số).",
                       "Unit code '{code}' belongs to the {other_map} administrative map, but period {period} "
                       "uses the {map_version} map (before 2025-07-01: 3-digit district codes; from 2025-07-01: "
                       "5-digit commune codes)."),
    "BAD_WEEK": ("Dòng tuần không hợp lệ {where_vi}: '{text}' — {reason_vi}.",
                 "Invalid week line at {where_en}: '{text}' — {reason}."),
    "FUTURE_PERIOD": ("Kỳ báo cáo {period} chưa kết thúc tại thời điểm nhận tệp ({arrived_at}).",
                      "Reporting period {period} had not ended when the file arrived ({arrived_at})."),
    "VALUE_NOT_NUMBER": ("Giá trị không phải là số {where_vi}: '{value}'.",
                         "Value is not a number at {where_en}: '{value}'."),
    "NEGATIVE_COUNT": ("Số lượng âm {where_vi}: '{value}'.", "Negative count at {where_en}: '{value}'."),
    "PERCENT_OUT_OF_RANGE": ("Tỉ lệ phần trăm ngoài khoảng cho phép ({range}) {where_vi}: '{value}'.",
                             "Percentage out of the allowed range ({range}) at {where_en}: '{value}'."),
    "UNKNOWN_INDICATOR_ROW": ("Dòng chỉ tiêu không có trong mẫu {where_vi}: '{value}' {reason_vi}.",
                              "Indicator row not in the template at {where_en}: '{value}' {reason}."),
    "MERGED_NUMBER_CELLS": ("Vùng ô gộp {range} phủ lên {cells} ô số liệu, không rõ giá trị thuộc ô nào ({where_vi}); "
                            "hãy bỏ gộp ô và ghi số vào từng ô.",
                            "The merged range {range} covers {cells} number cells and it is not clear which cell its "
                            "value belongs to ({where_en}); unmerge it and type each number in its own cell."),
    "FORMULA_NOT_COMPUTED": ("Công thức '{formula}' {where_vi} không có giá trị đã lưu và không tính được ({reason_vi}); "
                             "hãy mở tệp trong Excel/LibreOffice, lưu lại rồi gửi.",
                             "The formula '{formula}' at {where_en} has no saved value and cannot be computed "
                             "({reason}); open the file in Excel/LibreOffice, save it and send it again."),
    "MISSING_INDICATOR_ROW": ("Thiếu dòng chỉ tiêu của mẫu: {missing}.",
                              "Indicator rows of the template are missing: {missing}."),
    "DUPLICATE_ORDER_ID": ("Mã đơn hàng '{order_id}' xuất hiện hai lần trong cùng tệp với nội dung khác nhau "
                           "(dòng {first_line} và dòng {line}).",
                           "Order id '{order_id}' appears twice in the same file with different content "
                           "(lines {first_line} and {line})."),
    "DUPLICATE_HOUSEHOLD_CODE": ("Mã hộ '{code}' xuất hiện hai lần trong danh sách (dòng {first_line} và dòng {line}).",
                                 "Household code '{code}' appears twice in the register (lines {first_line} "
                                 "and {line})."),
    "MISSING_VALUE": ("Thiếu giá trị bắt buộc {where_vi}.", "A required value is missing at {where_en}."),
    "BAD_DATE": ("Ngày/giờ không hợp lệ {where_vi}: '{value}' (mong đợi dạng {expected}).",
                 "Invalid date/time at {where_en}: '{value}' (expected {expected})."),
    "BAD_BOOLEAN": ("Giá trị đúng/sai không hợp lệ {where_vi}: '{value}' (mong đợi {expected}).",
                    "Invalid boolean at {where_en}: '{value}' (expected {expected})."),
}

CODES = tuple(MESSAGES)

# Warnings: the file is accepted, and what it lacks is said (CheckResult.warnings, landing's log).
WARNING_MESSAGES: dict[str, tuple[str, str]] = {
    "FORM_ROWS_OMITTED": ("Biểu mẫu không có {count} dòng chỉ tiêu, được ghi nhận là 'không báo cáo' (không phải 0): "
                          "{rows_vi}.",
                          "The form leaves out {count} indicator row(s), recorded as 'not reported' (not 0): {rows_en}."),
    "DUPLICATE_LINES": ("Tệp có {count} dòng trùng lặp hoàn toàn với một dòng trước đó: mỗi dòng chỉ được nạp một lần.",
                        "The file has {count} lines that exactly repeat an earlier line: each is loaded once."),
}

# What an error shows instead of a data value that may be personal (e.g. a stray phone number typed
# beyond the last column): reasons land in raw.landed_files, where personal data must never be.
EXTRA_DATA = "dữ liệu ngoài cột cuối / data beyond the last column"


class _Default(dict):
    def __missing__(self, key):  # a template field nobody filled stays visible, never crashes
        return "?"


def where_cell(ref: str) -> tuple[str, str]:
    return f"tại ô {ref}", f"cell {ref}"


def where_range(ref: str) -> tuple[str, str]:
    return f"tại vùng {ref}", f"range {ref}"


def warning(code: str, **detail: Any) -> dict[str, Any]:
    """A warning (code, message_vi, message_en, detail) of WARNING_MESSAGES."""
    vi, en = WARNING_MESSAGES[code]
    detail = {k: _jsonable(v) for k, v in detail.items()}
    fields = _Default(detail)
    return {"code": code, "message_vi": vi.format_map(fields), "message_en": en.format_map(fields), "detail": detail}


def where_line(line: int, column: str | None = None) -> tuple[str, str]:
    if column:
        return f"tại dòng {line}, cột '{column}'", f"line {line}, column '{column}'"
    return f"tại dòng {line}", f"line {line}"


class LandingError(Exception):
    """A file-level problem: the file is quarantined with this reason."""

    def __init__(self, code: str, where: tuple[str, str] | None = None, /, **detail: Any):
        if code not in MESSAGES:
            raise ValueError(f"unknown landing reason code {code!r}")
        self.code = code
        self.detail = {k: _jsonable(v) for k, v in detail.items()}
        if where:
            self.detail.setdefault("where", where[1])
        fields = _Default(self.detail)
        fields["where_vi"], fields["where_en"] = where or ("", "")
        fields.setdefault("reason_vi", detail.get("reason", ""))
        vi, en = MESSAGES[code]
        self.message_vi = vi.format_map(fields).replace(" )", ")").replace("  ", " ")
        self.message_en = en.format_map(fields).replace(" )", ")").replace("  ", " ")
        super().__init__(f"{code}: {self.message_en}")

    @classmethod
    def from_row(cls, code: str, message_vi: str | None, message_en: str | None,
                 detail_json: str | None) -> "LandingError":
        """The error recorded in raw.landed_files, rebuilt (for a re-delivered quarantined file)."""
        import json

        error = cls.__new__(cls)
        Exception.__init__(error, f"{code}: {message_en}")
        error.code = code
        error.message_vi = message_vi or ""
        error.message_en = message_en or ""
        try:
            error.detail = json.loads(detail_json) if detail_json else {}
        except ValueError:
            error.detail = {"text": detail_json}
        return error

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en,
                "detail": self.detail}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
