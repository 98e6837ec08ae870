"""The wording and layout of the published reports (Mẫu Phụ lục 02 — Kế hoạch 201/KH-UBND of Quảng Ninh):
headings, section titles, scope and platform names, the map the periodic reports are drawn on, and
`Period`, the title / period line / column headings / file names of a report over one period. The
calendar facts (bounds, deadlines) come from lensan.calendar.periods; nothing here reads the database
or writes files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lensan import settings
from lensan.calendar import periods

SYSTEM_LINE = "Hệ thống giám sát Chương trình 1034 (lensan)"
TEMPLATE_LINE = ("Mẫu Phụ lục 02 — Kế hoạch số 201/KH-UBND ngày 18/10/2021 của UBND tỉnh Quảng Ninh "
                 "(báo cáo trước 14h00 thứ 5 hằng tuần)")
TITLE = "BÁO CÁO TUẦN"

HEADINGS = (
    "TT",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu đạt được trong tuần (Số lượng)",
    "Tăng trưởng so với tuần trước (%)",
    "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)",
    "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)",
    "Ghi chú thông tin bổ sung",
)
# the values of columns D–G
VALUE_FIELDS = ("value_in_week", "growth_pct", "cumulative_value", "target_attainment_pct")

SECTION_TITLES = {
    "II": "Chỉ tiêu hỗ trợ đưa hộ SXNN lên sàn TMĐT",
    "III": "Chỉ tiêu hỗ trợ đẩy mạnh tiêu thụ sản phẩm nông nghiệp",
    "IV": "Chỉ tiêu hỗ trợ cung cấp thông tin, nguyên liệu đầu vào phục vụ sản xuất, kinh doanh",
    "N": "Chỉ tiêu chung của Chương trình (Quyết định 1034/QĐ-BTTTT)",
}
SECTION_NUMERALS = {"I": "I", "II": "II", "III": "III", "IV": "IV", "N": "V"}
SCOPE_ORDER = {"nation": 0, "region": 1, "province": 2}
SCOPE_LEVEL_VI = {"nation": "Toàn quốc", "region": "Vùng", "province": "Tỉnh/thành phố"}
NATION_NAME = "Toàn quốc"
MAP_VERSION = "post2025"   # periodic reports: provinces on today's boundaries
MAP_LINES = {"post2025": "Địa giới hành chính hiện hành (34 tỉnh/thành phố, từ 01/7/2025)",
             "pre2025": "Địa giới hành chính tại thời điểm báo cáo (63 tỉnh/thành phố, cấp huyện; trước 01/7/2025)"}
GATE_VI = {"passed": "đạt", "warning": "đạt, có cảnh báo", "failed": "không đạt"}
GATE_NOT_RUN_VI = "không chạy"
PLATFORM_NOTE = ("Hộ bán trên cả hai sàn (postmart.vn, voso.vn) được đếm một lần trong tổng; số liệu theo "
                 "từng sàn có thể có tổng lớn hơn tổng chung. Ô trống: đơn vị không báo cáo ô này của biểu mẫu; "
                 "0: không phát sinh (không có gì xảy ra trong kỳ).")
PLATFORMS = ("postmart", "voso")   # the per-platform figures beside 'all' (DOMAIN §6)
PLATFORM_SPLIT_NOTE = (
    "Số liệu theo từng sàn: một hộ (hoặc sản phẩm, thị trường, tài khoản) có mặt trên cả postmart.vn và voso.vn "
    "được tính ở cả hai sàn nhưng chỉ một lần trong cột \"Cả hai sàn\", nên postmart.vn + voso.vn có thể lớn hơn "
    "tổng. / Per-platform figures: a household (or product, market, account) on both postmart.vn and voso.vn "
    "counts on each platform but once in the total, so postmart.vn + voso.vn can exceed the total.")
PLATFORM_SHEET = "Theo sàn"
# the attainment flag of a row (marts.fct_indicator_values.attainment_flag, thresholds in dbt_project.yml
# vars attainment_low_pct / attainment_low_from_month): a marker beside the % and a note, explained once
ATTAINMENT_FLAGS = {"above_target": ("▲", "Vượt chỉ tiêu năm (trên 100%)"),
                    "implausibly_low": ("▼", "Thấp bất thường (dưới 5% chỉ tiêu năm)")}
ATTAINMENT_FLAG_HEADING = "Cảnh báo tỉ lệ hoàn thành (attainment_flag)"
ATTAINMENT_LEGEND = (
    "Tỉ lệ hoàn thành được tô màu khi bất thường: ▲ vượt chỉ tiêu — trên 100% chỉ tiêu năm (cần xem lại chỉ "
    "tiêu hoặc số liệu); ▼ thấp bất thường — dưới 5% chỉ tiêu năm trong kỳ kết thúc từ tháng 4 (cần xem lại chỉ "
    "tiêu, mẫu số hoặc phạm vi số liệu).")
PRODUCT_FIELDS = ("platform", "product_group", "product_type", "orders", "volume_t", "revenue_vnd")
PRODUCT_HEADINGS = ("Sàn", "Nhóm sản phẩm", "Loại sản phẩm", "Số đơn hàng thành công", "Sản lượng (tấn)",
                    "Doanh thu (VNĐ)")
PLATFORM_VI = {"all": "Cả hai sàn", "postmart": "postmart.vn", "voso": "voso.vn"}
PRODUCT_GROUP_VI = {"agricultural": "Nông sản", "input": "Đầu vào", "unknown": "Không rõ"}
PERIOD_TYPE_VI = {period_type: vi for period_type, (vi, _) in periods.PERIOD_NAMES.items()}


def issuing_body(level: str, code: str, on: dt.date, map_version: str = MAP_VERSION) -> str:
    """The body heading a scope's report issued on `on` (ref_issuing_bodies.csv; a parent body on the line
    above): a province's UBND or department, the ministry in charge of the programme for a region and the
    nation (LENSAN_NATIONAL_ISSUING_BODY overrides it). A scope whose body no longer exists on `on` (a
    pre-2025 province) keeps its last one; a scope without any row is headed by the ministry."""
    from lensan import reference

    override = settings.load().national_issuing_body
    if override and level in ("nation", "region"):
        return override
    rows = [r for r in reference.issuing_bodies() if r["scope_level"] == level and r["scope_code"] == code
            and r["map_version"] in ("", map_version)]
    if not rows:
        if level == "nation":
            raise LookupError("ref_issuing_bodies.csv không có cơ quan cấp quốc gia / has no national body row")
        return override or issuing_body("nation", settings.NATION_CODE, on)
    day = on.isoformat()
    current = [r for r in rows if r["valid_from"] <= day <= r["valid_to"]]
    row = current[0] if current else max(rows, key=lambda r: r["valid_to"])
    return "\n".join(part for part in (row["parent_body"], row["body_name"]) if part)


def coverage_line(coverage: dict | None, level: str) -> str | None:
    """The footnote of a national / region report naming how many provinces its figures come from: its
    figures are the sum of the provinces with data, its target that of all of them (so attainment is low
    while provinces are missing)."""
    if not coverage or level not in ("nation", "region"):
        return None
    where = "cả nước" if level == "nation" else "vùng"
    names = coverage.get("province_names") or []
    listed = f" ({', '.join(names)})" if names and len(names) <= 10 else ""
    line = (f"Phạm vi số liệu: {coverage_short(coverage)}{listed}. Số liệu của {where} là tổng của các tỉnh, "
            f"thành phố này; chỉ tiêu năm là chỉ tiêu của {where} ({coverage['provinces']} tỉnh, thành phố)")
    if coverage["provinces_with_data"] < coverage["provinces"]:
        line += ", nên tỉ lệ hoàn thành thấp khi còn tỉnh, thành phố chưa có số liệu"
    return line + "."


def coverage_short(coverage: dict) -> str:
    """'số liệu từ 2/34 tỉnh, thành phố'."""
    return f"số liệu từ {coverage['provinces_with_data']}/{coverage['provinces']} tỉnh, thành phố"


def scope_sort_key(scope_level: str, scope_key: str) -> tuple[int, str]:
    """Nation first, then regions, then provinces; by key within a level."""
    return SCOPE_ORDER.get(scope_level, 9), scope_key


@dataclass(frozen=True)
class Period:
    """One reporting period and the wording of its report (start, end and deadline from lensan.calendar)."""
    type: str
    key: str
    start: dt.date
    end: dt.date
    deadline_at: dt.datetime | None = None
    map_version: str = MAP_VERSION   # 'pre2025': the map of its time (--map as-reported), on request

    @property
    def as_reported(self) -> bool:
        """Drawn on an earlier map than today's (63 provinces, districts), beside today's boundaries."""
        return self.map_version != MAP_VERSION

    @property
    def map_line(self) -> str:
        return MAP_LINES.get(self.map_version, self.map_version)

    @property
    def year(self) -> int:
        return self.end.year

    @property
    def title(self) -> str:
        if self.type == "week":
            return TITLE
        if self.type == "month":
            return f"BÁO CÁO THÁNG {self.end.month}/{self.year}"
        if self.type == "half_year":
            return f"BÁO CÁO 6 THÁNG {'ĐẦU' if self.end.month == 6 else 'CUỐI'} NĂM {self.year}"
        return f"BÁO CÁO NĂM {self.year}"

    @property
    def label(self) -> str:
        """The period line under the title, e.g. 'Tuần 47/2026 (từ ngày 16/11/2026 đến ngày 22/11/2026)'."""
        span = f"(từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y})"
        if self.type == "week":
            year, week = self.key.split("-W")
            return f"Tuần {int(week)}/{year} {span}"
        if self.type == "month":
            return f"Tháng {self.end.month}/{self.year} {span}"
        if self.type == "half_year":
            return f"6 tháng {'đầu' if self.end.month == 6 else 'cuối'} năm {self.year} {span}"
        return f"Năm {self.year} {span}"

    @property
    def template_line(self) -> str:
        if self.type == "week":
            return TEMPLATE_LINE
        line = ("Bố cục theo Mẫu Phụ lục 02 — Kế hoạch số 201/KH-UBND ngày 18/10/2021 của UBND tỉnh Quảng Ninh; "
                f"kỳ báo cáo {PERIOD_TYPE_VI[self.type]}")
        if self.deadline_at is not None:
            local = self.deadline_at.astimezone(settings.LOCAL_TZ)
            if local.time() == dt.time(0, 0):
                line += f" (hạn: hết ngày {local.date() - dt.timedelta(days=1):%d/%m/%Y})"
            else:
                line += f" (hạn: trước {local:%Hh%M} ngày {local:%d/%m/%Y})"
        return line

    @property
    def file_prefix(self) -> str:
        return {"week": "bao_cao_tuan", "month": "bao_cao_thang", "half_year": "bao_cao_6_thang",
                "year": "bao_cao_nam"}[self.type]

    def file_base(self, scope_key: str) -> str:
        """Base name of a scope's files, e.g. 'bao_cao_tuan_2026-W47_province-22' (+ .xlsx / .csv / .json)."""
        if self.as_reported:
            return f"{self.file_prefix}_{self.key}_{self.map_version}_{scope_key}"
        return f"{self.file_prefix}_{self.key}_{scope_key}"

    @property
    def sheet_title(self) -> str:
        return {"week": "Báo cáo tuần", "month": "Báo cáo tháng", "half_year": "Báo cáo 6 tháng",
                "year": "Báo cáo năm"}[self.type]

    @property
    def value_field(self) -> str:
        return "value_in_week" if self.type == "week" else "value_in_period"

    @property
    def value_fields(self) -> tuple[str, ...]:
        return (self.value_field,) + VALUE_FIELDS[1:]

    @property
    def platform_fields(self) -> tuple[str, ...]:
        """The per-platform columns of a row: value in the period and cumulative, postmart then voso."""
        return tuple(f for p in PLATFORMS for f in (f"{self.value_field}_{p}", f"cumulative_value_{p}"))

    @property
    def platform_headings(self) -> tuple[str, ...]:
        return self.split_headings(PLATFORMS)

    def split_headings(self, platforms: tuple[str, ...]) -> tuple[str, ...]:
        """'postmart.vn: đạt được trong tuần', 'postmart.vn: lũy kế', … for each of `platforms`."""
        noun = PERIOD_TYPE_VI[self.type]
        return tuple(h for p in platforms for h in (f"{PLATFORM_VI[p]}: đạt được trong {noun}",
                                                    f"{PLATFORM_VI[p]}: lũy kế"))

    @property
    def headings(self) -> tuple[str, ...]:
        if self.type == "week":
            return HEADINGS
        noun = PERIOD_TYPE_VI[self.type]
        previous = {"month": "tháng trước", "half_year": "6 tháng trước", "year": "năm trước"}[self.type]
        return (HEADINGS[0], HEADINGS[1], HEADINGS[2],
                f"Chỉ tiêu đạt được trong {noun} (Số lượng)",
                f"Tăng trưởng so với {previous} (%)",
                "Chỉ tiêu đạt được lũy kế đến cuối kỳ báo cáo (Số lượng)",
                f"Tỉ lệ hoàn thành chỉ tiêu năm {self.year} đến cuối kỳ báo cáo (%)",
                HEADINGS[7])
