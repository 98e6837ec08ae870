"""Seeded, reproducible sample raw files (S1–S4 of docs/raw_formats.md) for demos and tests.

One simulated population per reporting unit (a district before the 1 July 2025 reform, a
commune/ward after it): households that get trained week by week, open shops on postmart.vn and/or
voso.vn (some on both, with the same phone), list products and receive orders. From that population
the generator writes what the warehouse would receive:

* ``weekly_form``        one appendix-02 workbook per unit and week, typed by a person (edited labels,
                         numbers as text, blanks, resends), values close to the truth;
* ``household_register`` one snapshot per unit for the last generated week of each map;
* ``postmart``           daily CSV extracts per entity;
* ``voso``               daily gzip JSON Lines extracts per entity (one delivered order repeated as
                         returned in a later day's file, at least one per unit when the window allows).

Everything is derived from ``random.Random`` instances seeded with the seed and the unit / week /
purpose, so the same arguments give byte-identical files (XLSX zip entries and core properties
fixed, gzip mtime 0). Each file's mtime is its simulated delivery time. The generator's ground
truth goes to ``<home>/generated/truth.json`` (tests only; the pipeline never reads it).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import random
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape as xml_escape

from lensan import settings, reference

from lensan.calendar import periods

UTC = dt.timezone.utc
LOCAL_TZ = settings.LOCAL_TZ

# Size of the simulated population (households per reporting unit, inclusive range).
HOUSEHOLDS_PER_UNIT = (15, 40)
# Share of households per type in the register.
HOUSEHOLD_TYPES = (("Hộ SXNN", 0.84), ("Hộ kinh doanh", 0.08), ("HTX", 0.05), ("Tổ hợp tác", 0.03))
# Share of units whose register snapshot comes as XLSX instead of CSV.
REGISTER_XLSX_SHARE = 0.12
# Probability that a unit resends its weekly form (a `_2` file).
RESEND_PROBABILITY = 0.04

FIXED_XLSX_TIME = dt.datetime(2020, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# --- Personal data -------------------------------------------------------------------------------
HO = ("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan",
      "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Mai", "Lương")
DEM_NAM = ("Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Công", "Thanh", "Ngọc", "Đình", "Bá")
DEM_NU = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Minh", "Phương")
TEN_NAM = ("An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh", "Nam",
           "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung", "Tuấn", "Việt", "Vinh")
TEN_NU = ("Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Liên", "Linh", "Loan",
          "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Tâm", "Thảo", "Thu", "Trang", "Vân", "Yến")
PHONE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036",
                  "037", "038", "039", "088", "086")

# --- Products ----------------------------------------------------------------------------------
# product_type -> (names, (min, max) kg per sale unit, (min, max) VND per kg)
AGRI_TYPES = {
    "Rau củ": (("Rau cải ngọt", "Bí đỏ", "Cà chua", "Su hào", "Khoai lang mật", "Rau muống sạch"), (1, 5), (15_000, 45_000)),
    "Trái cây": (("Vải thiều", "Nhãn lồng", "Bưởi Năm Roi", "Xoài cát Hòa Lộc", "Cam sành", "Thanh long ruột đỏ"), (1, 10), (25_000, 90_000)),
    "Gạo": (("Gạo ST25", "Gạo nếp cái hoa vàng", "Gạo thơm Jasmine", "Gạo lứt đỏ"), (5, 25), (18_000, 40_000)),
    "Thủy sản": (("Tôm sú", "Cá tra phi lê", "Sá sùng khô", "Chả mực", "Cua biển", "Ngao hai cồi"), (0.5, 2), (120_000, 600_000)),
    "Chè": (("Chè xanh Đông Triều", "Trà Thái Nguyên", "Chè hoa vàng"), (0.1, 0.5), (200_000, 900_000)),
    "Mật ong": (("Mật ong rừng", "Mật ong hoa nhãn", "Mật ong bạc hà"), (0.5, 1), (250_000, 450_000)),
    "Thịt": (("Gà đồi", "Thịt lợn sạch", "Vịt Bầu", "Bò Tây Ninh"), (0.5, 2), (120_000, 300_000)),
    "Đặc sản chế biến": (("Miến dong", "Chả cá", "Bánh tráng", "Nem chua", "Khô cá lóc", "Lạp xưởng"), (0.2, 1), (100_000, 400_000)),
}
INPUT_TYPES = {
    "Phân bón": (("Phân NPK 16-16-8", "Phân hữu cơ vi sinh", "Phân bón lá"), (25, 50), (9_000, 18_000)),
    "Giống cây trồng": (("Giống lúa ST25", "Cây giống bưởi da xanh", "Hạt giống rau cải"), (0.1, 1), (50_000, 300_000)),
    "Thức ăn chăn nuôi": (("Cám gà thả vườn", "Thức ăn cho tôm", "Cám lợn thịt"), (25, 25), (10_000, 20_000)),
    "Vật tư nông nghiệp": (("Màng phủ nông nghiệp", "Lưới che nắng", "Bộ tưới nhỏ giọt"), (1, 5), (30_000, 120_000)),
}
MAIN_PRODUCTS = {
    "Hộ SXNN": ("Lúa", "Rau màu", "Cây ăn quả", "Nuôi tôm", "Chăn nuôi gà", "Chè", "Nuôi ong", "Cá nước ngọt"),
    "Hộ kinh doanh": ("Vật tư nông nghiệp", "Phân bón", "Đặc sản chế biến"),
    "HTX": ("Rau an toàn", "Gạo", "Thủy sản", "Chè"),
    "Tổ hợp tác": ("Cây ăn quả", "Rau màu", "Nuôi ong"),
}
BIG_MARKETS = ("01", "79", "31", "48")   # Hà Nội, Hồ Chí Minh, Hải Phòng, Đà Nẵng (same codes on both maps)

# --- Platform vocabularies ------------------------------------------------------------------------
PM_STATUS = {"success": "Thành công", "cancelled": "Hủy", "returned": "Hoàn"}
VS_STATUS = {"success": "delivered", "cancelled": "cancelled", "returned": "returned"}
PM_ACTIVITY = {"post": "Đăng SP", "search": "Tìm kiếm", "message": "Nhắn tin", "transaction": "Giao dịch"}
VS_ACTIVITY = {"post": "post_product", "search": "search", "message": "message", "transaction": "transaction"}
PM_ENTITIES = ("gian_hang", "san_pham", "don_hang", "hoat_dong", "thong_tin")
VS_ENTITIES = ("shops", "products", "orders", "activities", "info_posts")
PM_HEADERS = {
    "gian_hang": ("Mã gian hàng", "SĐT chủ gian hàng", "Mã hộ SXNN", "Mã xã", "Ngày tạo", "Ví VNPostPay", "Trạng thái"),
    "san_pham": ("Mã sản phẩm", "Mã gian hàng", "Tên sản phẩm", "Nhóm sản phẩm", "Loại sản phẩm", "Số sao OCOP",
                 "Truy xuất nguồn gốc", "Gắn nhãn thương hiệu", "Ưu đãi cho hộ SXNN", "Ngày đăng"),
    "don_hang": ("Mã đơn hàng", "Thời gian đặt", "Mã gian hàng bán", "Mã tài khoản mua", "SĐT người mua", "Mã sản phẩm",
                 "Số lượng", "Khối lượng (kg)", "Thành tiền (VNĐ)", "Mã tỉnh người mua", "Quốc gia người mua",
                 "Trạng thái", "Thời gian cập nhật"),
    "hoat_dong": ("Mã tài khoản", "Thời gian", "Loại hoạt động", "Mã xã"),
    "thong_tin": ("Mã bài", "Chuyên mục", "Mã tỉnh", "Thời gian đăng"),
}
VS_FIELDS = {
    "shops": ("shop_id", "owner_phone", "household_code", "ward_code", "created_at", "has_ewallet", "status"),
    "products": ("product_id", "shop_id", "name", "product_group", "product_type", "ocop_stars", "traceable",
                 "brand_marked", "household_discount", "listed_at"),
    "orders": ("order_id", "ordered_at", "shop_id", "buyer_account_id", "buyer_phone", "product_id", "quantity",
               "weight_g", "amount_vnd", "buyer_province_code", "buyer_country", "status", "updated_at"),
    "activities": ("account_id", "occurred_at", "activity_type", "ward_code"),
    "info_posts": ("post_id", "category", "province_code", "posted_at"),
}
PLATFORM_PREFIX = {"postmart": "PM", "voso": "VS"}
ACCOUNT_PREFIX = {"postmart": "PMTK", "voso": "VSAC"}

# --- Weekly form ----------------------------------------------------------------------------------
FORM_HEADINGS = ("TT", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu đạt được trong tuần (Số lượng)",
                 "Tăng trưởng so với tuần trước (%)", "Chỉ tiêu đạt được lũy kế đến hiện tại (Số lượng)",
                 "Tỉ lệ hoàn thành chỉ tiêu đến thời điểm hiện tại (%)", "Ghi chú thông tin bổ sung")
SECTION_TITLES = {
    "II": "Chỉ tiêu hỗ trợ đưa hộ SXNN lên sàn TMĐT",
    "III": "Chỉ tiêu hỗ trợ đẩy mạnh tiêu thụ sản phẩm nông nghiệp",
    "IV": "Chỉ tiêu hỗ trợ cung cấp thông tin, nguyên liệu đầu vào phục vụ sản xuất, kinh doanh",
}
# Labels as people actually type them (the Quảng Ninh appendix itself says "gần mark", "trên sán").
LABEL_VARIANTS = {
    "ocop_listed": ("Chỉ tiêu đưa sản phẩm OCOP tỉnh lên sàn TMĐT", "SP OCOP (từ 3 sao) đưa lên sàn TMĐT"),
    "hh_trained_digital": ("Số hộ được đào tạo, tập huấn về kỹ năng số và kỹ năng hoạt động trên không gian mạng",
                           "Số hộ được đào tạo…", "So ho SXNN duoc dao tao ky nang so"),
    "hh_trained_logistics": ("Số hộ SXNN được đào tạo đóng gói - kết nối - giao nhận",),
    "hh_with_shop": ("Số hộ SXNN có TK bán hàng/gian hàng trên sàn", "Hộ có gian hàng trên sàn"),
    "hh_with_epay": ("Số hộ có tài khoản thanh toán điện tử", "Số hộ SXNN có TK thanh toán điện tử"),
    "products_promoted": ("Số/loại SP được quảng bá, giới thiệu trên sàn",),
    "volume_sold_t": ("Sản lượng nông sản tiêu thụ qua sàn (tấn)", "Sản lượng tiêu thụ qua sàn"),
    "products_branded": ("Số sản phẩm nông nghiệp được gần mark thương hiệu trên sàn", "Số SP được gắn nhãn thương hiệu"),
    "hh_branded": ("Số hộ SXNN được gần mark thương hiệu trên sàn",),
    "traceable": ("Số sản phẩm nông sản và/hoặc hộ SXNN có công cụ truy xuất nguồn gốc trên sán",
                  "Số SP/hộ có truy xuất nguồn gốc"),
    "domestic_markets": ("Số thị trường trong nước đã tiêu thụ",),
    "foreign_markets": ("Số thị trường nước ngoài đã tiêu thụ",),
    "info_items": ("Số hạng mục thông tin được cung cấp qua sàn",),
    "info_update_days": ("Tần suất cập nhật thông tin",),
    "inputs_listed": ("Số hàng hóa, sản phẩm đầu vào được giới thiệu trên sàn",),
    "hh_bought_inputs": ("Số hộ SXNN đã đặt mua hàng hóa đầu vào qua sàn TMĐT",),
    "inputs_discounted": ("Số loại hàng hóa đầu vào có ưu đãi cho hộ SXNN",),
}
UNIT_VARIANTS = {"Tỉnh/TP": "tỉnh/thành phố", "Hộ": "hộ", "Tấn": "tấn", "Sản phẩm": "SP"}
CODE_LABELS = ("Mã đơn vị:", "Mã đơn vị:", "Mã đơn vị:", "MÃ ĐƠN VỊ:", "Ma don vi:")


@dataclass
class GenerateSummary:
    files_by_source: dict[str, int]
    rows_by_entity: dict[str, int]
    paths: list[Path]


# ==================================================================================================
# Helpers
# ==================================================================================================

def _rng(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream for one purpose (str seeds hash with SHA-512)."""
    return random.Random("|".join([str(seed), *map(str, parts)]))


def _local(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL_TZ)


def _rand_time(rng: random.Random, day: dt.date, start_h: int = 6, end_h: int = 22) -> dt.datetime:
    return _local(day, rng.randint(start_h, end_h), rng.randint(0, 59), rng.randint(0, 59))


def _clip_day(moment: dt.datetime, day: dt.date | None = None) -> dt.datetime:
    """`moment`, but no later than 23:59:59 local of `day` (default: the local day of `moment`)."""
    day = day or moment.astimezone(LOCAL_TZ).date()
    return min(moment, _local(day, 23, 59, 59))


def _pm_time(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M:%S")


def _vs_time(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pm_bool(value: bool) -> str:
    return "Có" if value else "Không"


def _pm_decimal(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _person_name(rng: random.Random) -> str:
    if rng.random() < 0.55:
        return f"{rng.choice(HO)} {rng.choice(DEM_NAM)} {rng.choice(TEN_NAM)}"
    return f"{rng.choice(HO)} {rng.choice(DEM_NU)} {rng.choice(TEN_NU)}"


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def _format_phone(rng: random.Random, phone: str) -> str:
    """The same number as different people type it: 0912345678, 0912 345 678, +84912345678, ..."""
    r = rng.random()
    if r < 0.55:
        return phone
    if r < 0.75:
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    if r < 0.9:
        return "+84" + phone[1:]
    return f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}"


def _citizen_id(rng: random.Random, province_code: str) -> str:
    century_gender = rng.choice("0123")
    return f"0{province_code[-2:]}{century_gender}{rng.randint(50, 99) if century_gender in '01' else rng.randint(0, 9):02d}{rng.randrange(10**6):06d}"


@lru_cache
def _countries() -> tuple[tuple[str, str], ...]:
    with (settings.SEEDS_DIR / "ref_countries.csv").open(encoding="utf-8", newline="") as fh:
        return tuple((r["country_code"], r["country_name_vi"]) for r in csv.DictReader(fh))


@lru_cache
def _info_categories() -> tuple[str, ...]:
    with (settings.SEEDS_DIR / "ref_info_categories.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(r["category"] for r in csv.DictReader(fh))


@lru_cache
def _indicator_base_codes() -> dict[str, tuple[str, str]]:
    with (settings.SEEDS_DIR / "ref_indicators.csv").open(encoding="utf-8", newline="") as fh:
        return {r["indicator_code"]: (r["target_basis"], r["base_code"]) for r in csv.DictReader(fh)}


@lru_cache
def _targets() -> dict[tuple[str, str, str, int], tuple[str, float]]:
    out = {}
    with (settings.SEEDS_DIR / "ref_targets.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["scope_level"] == "province":
                out[(r["map_version"], r["province_code"], r["indicator_code"], int(r["target_year"]))] = (
                    r["target_type"], float(r["target_value"]))
    return out


@lru_cache
def _unit_bases() -> dict[tuple[str, str, int, str], float]:
    out = {}
    with (settings.SEEDS_DIR / "ref_bases.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["unit_level"] in ("district", "commune"):
                out[(r["map_version"], r["unit_code"], int(r["base_year"]), r["base_code"])] = float(r["base_value"])
    return out


@lru_cache
def _communes_by_district() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for (mv, level, code), unit in reference.admin_units().items():
        if mv == "pre2025" and level == "commune" and unit.district_code:
            out[unit.district_code].append(code)
    return {k: sorted(v) for k, v in out.items()}


@lru_cache
def _communes_by_province(map_version: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for (mv, level, code), unit in reference.admin_units().items():
        if mv == map_version and level == "commune":
            out[unit.province_code].append(code)
    return {k: sorted(v) for k, v in out.items()}


@lru_cache
def _province_codes(map_version: str) -> tuple[str, ...]:
    return tuple(sorted(code for (mv, code) in reference.provinces() if mv == map_version))


def provinces_for_map(map_version: str, provinces: list[str] | None, first_map: str) -> list[str]:
    """The province codes to generate on `map_version` for the codes given on `first_map`.

    Codes are read on the map of the earliest requested week; on later weeks of the other map they
    are carried over the reform with the crosswalk (old → new), so the same part of the country is
    generated on both sides. Codes not valid on `first_map` but valid on `map_version` are kept.
    """
    if provinces is None:
        return list(_province_codes(map_version))
    valid_first = set(_province_codes(first_map))
    valid_here = set(_province_codes(map_version))
    crosswalk = reference.province_crosswalk()
    out: set[str] = set()
    for raw in provinces:
        code = str(raw).strip().zfill(2)
        if map_version == first_map or (code not in valid_first and code in valid_here):
            if code not in valid_here:
                raise ValueError(f"province {code} does not exist on the {map_version} map")
            out.add(code)
        elif first_map == "pre2025" and map_version == "post2025":
            out.add(crosswalk[code])
        else:  # post-reform codes on pre-reform weeks: every old province merged into it
            out.update(old for old, new in crosswalk.items() if new == code)
    return sorted(out)


# ==================================================================================================
# The simulated population
# ==================================================================================================

@dataclass
class Household:
    code: str
    name: str
    phone: str
    citizen_id: str
    commune: str
    type: str
    main_product: str
    trained_digital: dt.date | None
    trained_logistics: dt.date | None
    level: str
    accounts: dict[str, str] = field(default_factory=dict)

    @property
    def sxnn(self) -> bool:
        return self.type == "Hộ SXNN"


@dataclass
class Product:
    platform: str
    product_id: str
    shop: "Shop"
    name: str
    group: str          # agri | input
    type: str
    stars: int
    traceable: bool
    brand: bool
    discount: bool
    listed: dt.datetime
    kg_per_unit: float
    price_per_unit: int


@dataclass
class Shop:
    platform: str
    shop_id: str
    household: Household | None
    owner_phone: str
    account_id: str
    commune: str
    created: dt.datetime
    epay_initial: bool
    epay_on: dt.datetime | None
    status: str         # active | suspended
    products: list[Product] = field(default_factory=list)

    def epay_at(self, day: dt.date) -> bool:
        if self.created.date() > day:
            return False
        return self.epay_initial or (self.epay_on is not None and self.epay_on.date() <= day)


@dataclass
class Order:
    platform: str
    order_id: str
    ordered: dt.datetime
    updated: dt.datetime
    product: Product
    buyer_account: str
    buyer_phone: str
    buyer_household: Household | None
    buyer_commune: str
    quantity: int
    weight_kg: float
    amount: int
    province: str       # '' for foreign buyers
    country: str
    status: str         # success | cancelled (initial)
    returned: dt.datetime | None = None

    def success_at(self, day: dt.date) -> bool:
        return self.status == "success" and (self.returned is None or self.returned.date() > day)


@dataclass
class Unit:
    map_version: str
    code: str
    name: str
    province: str
    days: list[dt.date]
    households: list[Household] = field(default_factory=list)
    shops: list[Shop] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    activities: list[tuple[str, dt.datetime, str, str, str]] = field(default_factory=list)


def _build_unit(seed: int, unit: reference.AdminUnit, weeks: list[str], orders_per_week: int,
                households_per_unit: tuple[int, int] = HOUSEHOLDS_PER_UNIT,
                search_per_order: float = 1.0) -> Unit:
    """The simulated population of one reporting unit over `weeks`.

    `households_per_unit` (inclusive range) sizes the population; `search_per_order` is the share of
    orders preceded by a buyer search event (1.0: every order, without drawing — the sample default).
    """
    mv = unit.map_version
    rng = _rng(seed, "population", mv, unit.code)
    days = sorted(d for w in weeks for d in _week_days(w))
    first, last = days[0], days[-1]
    u = Unit(mv, unit.code, unit.name, unit.province_code, days)
    communes = [unit.code] if mv == "post2025" else (_communes_by_district().get(unit.code) or [unit.code])

    # Households ------------------------------------------------------------------------------
    n = rng.randint(*households_per_unit)
    types, weights = zip(*HOUSEHOLD_TYPES)
    for i in range(n):
        hh_type = "Hộ SXNN" if i == 0 else rng.choices(types, weights)[0]
        r = rng.random()
        if i == 0 or r < 0.35:     # trained before the window
            digital = first - dt.timedelta(days=rng.randint(7, 400))
        elif r < 0.7:              # trained during the window
            digital = rng.choice(days)
        else:
            digital = None
        logistics = None
        if digital is not None and (i == 0 or rng.random() < 0.75):
            later = [d for d in days if d >= digital]
            if digital < first and rng.random() < 0.6:
                logistics = digital + dt.timedelta(days=rng.randint(0, (first - digital).days))
            elif later:
                logistics = rng.choice(later)
        elif digital is None and rng.random() < 0.05:
            logistics = rng.choice(days)   # trained in packing only: it happens
        hh = Household(
            code=f"HH{unit.code}-{i + 1:05d}", name=_person_name(rng), phone=_phone(rng),
            citizen_id=_citizen_id(rng, unit.province_code), commune=rng.choice(communes), type=hh_type,
            main_product=rng.choice(MAIN_PRODUCTS[hh_type]), trained_digital=digital,
            trained_logistics=logistics,
            level=("" if digital is None and logistics is None else rng.choice(("Cơ bản", "Cơ bản", "Nâng cao"))),
        )
        digits = hh.code[2:].replace("-", "")
        hh.accounts = {pl: f"{ACCOUNT_PREFIX[pl]}{digits}" for pl in ACCOUNT_PREFIX}
        u.households.append(hh)

    # Shops -----------------------------------------------------------------------------------
    counters = {"postmart": 0, "voso": 0}

    def open_shop(platform: str, hh: Household | None, start: dt.date, input_shop: bool) -> Shop:
        counters[platform] += 1
        k = counters[platform]
        pf = PLATFORM_PREFIX[platform]
        candidates = [d for d in days if d >= start] or [days[-1]]
        created_day = candidates[0] if hh is not None and hh is u.households[0] else rng.choice(candidates[:10])
        created = _rand_time(rng, created_day, 7, 20)
        if hh is not None:
            phone, account, commune = hh.phone, hh.accounts[platform], hh.commune
        else:
            phone, account, commune = _phone(rng), f"{ACCOUNT_PREFIX[platform]}9{unit.code}{k:03d}", rng.choice(communes)
        epay_initial = rng.random() < (0.6 if platform == "postmart" else 0.7)
        epay_on = None
        if not epay_initial and rng.random() < 0.4:
            later = [d for d in days if d > created_day]
            if later:
                epay_on = _rand_time(rng, rng.choice(later), 8, 20)
        shop = Shop(platform, f"{pf}{'GH' if platform == 'postmart' else 'SH'}{unit.code}{k:03d}", hh,
                    _format_phone(rng, phone), account, commune, created, epay_initial, epay_on,
                    "suspended" if rng.random() < 0.04 else "active")
        # products
        n_products = rng.randint(2, 4) if input_shop else rng.randint(1, 4)
        for j in range(n_products):
            if input_shop or rng.random() < 0.05:
                group, table = "input", INPUT_TYPES
            else:
                group, table = "agri", AGRI_TYPES
            ptype = rng.choice(sorted(table))
            names, kg_range, price_range = table[ptype]
            kg = round(rng.uniform(*kg_range), 1) if kg_range[0] < 1 else float(rng.randint(int(kg_range[0]), int(kg_range[1])))
            kg = max(kg, 0.1)
            stars = rng.choices((0, 3, 4, 5), (80, 10, 7, 3))[0] if group == "agri" else 0
            listed_day = rng.choice([d for d in days if d >= created_day][:14])
            listed = created + dt.timedelta(minutes=rng.randint(5, 120)) if listed_day == created_day \
                else _rand_time(rng, listed_day, 7, 21)
            listed = _clip_day(listed, listed_day)
            name = f"{rng.choice(names)} {u.name.split(' ', 1)[-1]}" if rng.random() < 0.4 else rng.choice(names)
            if kg >= 1 and rng.random() < 0.5:
                name += f" {_pm_decimal(kg)}kg"
            shop.products.append(Product(
                platform, f"{pf}{'SP' if platform == 'postmart' else 'PR'}{unit.code}{k:03d}{j + 1:02d}", shop, name,
                group, ptype, stars, rng.random() < (0.35 if stars else 0.2), rng.random() < (0.6 if stars else 0.2),
                group == "input" and rng.random() < 0.5, listed, kg,
                int(round(kg * rng.randint(*price_range), -3)) or 1000))
        u.shops.append(shop)
        return shop

    for i, hh in enumerate(u.households):
        if hh.sxnn and hh.trained_digital is not None:
            start = max(hh.trained_digital, first)
            on_pm = i == 0 or rng.random() < 0.45
            on_vs = i == 0 or rng.random() < (0.45 if on_pm else 0.3)
            if on_pm:
                open_shop("postmart", hh, start, False)
            if on_vs:
                open_shop("voso", hh, start, False)
        elif hh.type in ("Hộ kinh doanh", "HTX") and rng.random() < 0.6:
            open_shop(rng.choice(("postmart", "voso")), hh, first, hh.type == "Hộ kinh doanh")
    # a supplier outside the programme (no household code) selling inputs
    open_shop(rng.choice(("postmart", "voso")), None, first, True)

    # Orders ------------------------------------------------------------------------------------
    sxnn = [hh for hh in u.households if hh.sxnn]
    products = [p for s in u.shops for p in s.products]
    returned_forced = False
    for week in weeks:
        wr = _rng(seed, "orders", mv, unit.code, week)
        week_days = _week_days(week)
        n_orders = max(0, round(wr.gauss(orders_per_week, orders_per_week * 0.3)))
        seq = 0
        for _ in range(n_orders):
            day = wr.choice(week_days)
            candidates = [p for p in products if p.listed.date() <= day]
            if not candidates:
                continue
            product = wr.choice(candidates)
            pf = PLATFORM_PREFIX[product.platform]
            seq += 1
            ordered = _rand_time(wr, day, 6, 22)
            if ordered <= product.listed:
                ordered = _clip_day(product.listed + dt.timedelta(minutes=wr.randint(10, 90)), day)
            household = None
            if product.group == "input" and sxnn and wr.random() < 0.7:
                household = wr.choice(sxnn)
            foreign = product.group == "agri" and wr.random() < 0.04
            if household is not None:
                account, phone = household.accounts[product.platform], household.phone
                province, country, buyer_commune = unit.province_code, "VN", household.commune
            else:
                account, phone = f"{ACCOUNT_PREFIX[product.platform]}8{wr.randrange(10**9):09d}", _phone(wr)
                if foreign:
                    province, country, buyer_commune = "", wr.choice([c for c, _ in _countries() if c != "VN"]), ""
                else:
                    r = wr.random()
                    all_codes = _province_codes(mv)
                    province = unit.province_code if r < 0.4 else (
                        wr.choice(BIG_MARKETS) if r < 0.7 else wr.choice(all_codes))
                    country = "VN"
                    buyer_commune = wr.choice(_communes_by_province(mv).get(province, [""]))
            quantity = wr.randint(10, 40) if wr.random() < 0.05 else wr.randint(1, 5)
            r = wr.random()
            status = "cancelled" if r < 0.1 else "success"
            updated = _clip_day(ordered + dt.timedelta(minutes=wr.randint(1, 600)), day)
            order = Order(product.platform, f"{pf}{'DH' if product.platform == 'postmart' else 'OR'}"
                          f"{day:%Y%m%d}{unit.code}{seq:04d}", ordered, updated, product, account,
                          _format_phone(wr, phone), household, buyer_commune, quantity,
                          round(quantity * product.kg_per_unit, 3), quantity * product.price_per_unit,
                          province, country, status)
            later = [d for d in days if day + dt.timedelta(days=2) <= d <= day + dt.timedelta(days=6)]
            want_return = status == "success" and later and (
                wr.random() < 0.04 or (product.platform == "voso" and not returned_forced))
            if want_return:
                order.returned = _rand_time(wr, wr.choice(later), 8, 20)
                if product.platform == "voso":
                    returned_forced = True
            u.orders.append(order)

    # Account activity -------------------------------------------------------------------------
    ar = _rng(seed, "activity", mv, unit.code)
    for shop in u.shops:
        for p in shop.products:
            u.activities.append((shop.platform, p.listed, shop.account_id, "post", shop.commune))
    for o in u.orders:
        if search_per_order >= 1.0 or ar.random() < search_per_order:
            u.activities.append((o.platform, o.ordered - dt.timedelta(minutes=ar.randint(2, 30)), o.buyer_account,
                                 "search", o.buyer_commune))
        u.activities.append((o.platform, o.ordered, o.buyer_account, "transaction", o.buyer_commune))
        u.activities.append((o.platform, o.updated, o.product.shop.account_id, "transaction", o.product.shop.commune))
    for day in days:
        for shop in u.shops:
            if shop.created.date() <= day and ar.random() < 0.15:
                u.activities.append((shop.platform, _rand_time(ar, day, 6, 22), shop.account_id, "message", shop.commune))
        for hh in u.households:
            if hh.trained_digital is not None and hh.trained_digital <= day and ar.random() < 0.03:
                platform = ar.choice(("postmart", "voso"))
                u.activities.append((platform, _rand_time(ar, day, 6, 22), hh.accounts[platform], "search", hh.commune))
    u.activities = [a for a in u.activities if a[1].date() in set(days)]
    return u


def _week_days(week: str) -> list[dt.date]:
    monday, _ = periods.week_bounds(week)
    return [monday + dt.timedelta(days=i) for i in range(7)]


# ==================================================================================================
# Truth (what the warehouse should compute) per unit and week
# ==================================================================================================

def _info_posts(seed: int, map_version: str, province: str, days: list[dt.date]) -> list[tuple]:
    """(platform, post_id, category, province, posted_at) for one province."""
    posts = []
    for platform in ("postmart", "voso"):
        r = _rng(seed, "info", map_version, province, platform)
        pf = PLATFORM_PREFIX[platform]
        for day in days:
            if r.random() < 0.4:
                continue
            for k in range(r.randint(1, 3)):
                posts.append((platform, f"{pf}TT{province}{day:%Y%m%d}{k + 1:02d}",
                              r.choice(_info_categories()), province, _rand_time(r, day, 7, 21)))
    return posts


def _truth(u: Unit, week: str, posts: list[tuple]) -> dict:
    ws, we = periods.week_bounds(week)
    agri = [p for s in u.shops for p in s.products if p.group == "agri" and p.listed.date() <= we]
    inputs = [p for s in u.shops for p in s.products if p.group == "input" and p.listed.date() <= we]
    sxnn = [h for h in u.households if h.sxnn]
    shop_hh = {s.household.code for s in u.shops if s.household and s.household.sxnn and s.created.date() <= we}
    epay_hh = {s.household.code for s in u.shops if s.household and s.household.sxnn and s.epay_at(we)}
    both = {h.code for h in sxnn if {s.platform for s in u.shops if s.household is h and s.created.date() <= we}
            == {"postmart", "voso"}}
    ok_orders = [o for o in u.orders if o.ordered.date() <= we and o.success_at(we)]
    week_ok = [o for o in ok_orders if o.ordered.date() >= ws and o.product.group == "agri"]
    ytd_ok = [o for o in ok_orders if o.ordered.date().year == we.year and o.product.group == "agri"]
    domestic = sorted({o.province for o in ok_orders if o.country == "VN" and o.province})
    foreign = sorted({o.country for o in ok_orders if o.country != "VN"})
    prov_posts = sorted(p[4] for p in posts if p[4].date() <= we)
    post_days = sorted({p.date() for p in prov_posts})
    in_week = [d for d in post_days if ws <= d <= we]
    gaps = []
    prev = max((d for d in post_days if d < ws), default=None)
    for d in in_week:
        if prev is not None:
            gaps.append((d - prev).days)
        prev = d
    bought = {o.buyer_household.code for o in u.orders
              if o.buyer_household is not None and o.product.group == "input" and o.ordered.date() <= we}
    week_orders = [o for o in u.orders if ws <= o.ordered.date() <= we]
    return {
        "indicators": {
            "ocop_listed": sum(1 for p in agri if p.stars >= 3),
            "hh_trained_digital": sum(1 for h in sxnn if h.trained_digital and h.trained_digital <= we),
            "hh_trained_logistics": sum(1 for h in sxnn if h.trained_logistics and h.trained_logistics <= we),
            "hh_with_shop": len(shop_hh),
            "hh_with_epay": len(epay_hh),
            "products_promoted": len(agri),
            "volume_sold_t": round(sum(o.weight_kg for o in week_ok) / 1000, 6),
            "volume_sold_t_ytd": round(sum(o.weight_kg for o in ytd_ok) / 1000, 6),
            "products_branded": sum(1 for p in agri if p.brand),
            "hh_branded": len({p.shop.household.code for p in agri
                               if p.brand and p.shop.household and p.shop.household.sxnn}),
            "traceable": sum(1 for p in agri if p.traceable),
            "domestic_markets": len(domestic),
            "foreign_markets": len(foreign),
            "info_items": len({p[2] for p in posts if p[4].date() <= we}),
            "info_update_days": max(gaps) if gaps else 7,
            "inputs_listed": len(inputs),
            "hh_bought_inputs": len(bought),
            "inputs_discounted": sum(1 for p in inputs if p.discount),
        },
        "domestic_provinces": domestic,
        "foreign_countries": foreign,
        "households": len(u.households),
        "households_sxnn": len(sxnn),
        "households_on_both_platforms": sorted(both),
        "shops": {pl: sum(1 for s in u.shops if s.platform == pl and s.created.date() <= we)
                  for pl in ("postmart", "voso")},
        "orders_in_week": {pl: sum(1 for o in week_orders if o.platform == pl) for pl in ("postmart", "voso")},
        "gmv_in_week_vnd": sum(o.amount for o in week_orders if o.success_at(we) and o.product.group == "agri"),
        "returned_order_ids": sorted(o.order_id for o in u.orders if o.returned and ws <= o.returned.date() <= we),
    }


# ==================================================================================================
# Writers
# ==================================================================================================

class _FixedZip(zipfile.ZipFile):
    """ZipFile whose entries all carry one fixed timestamp (byte-identical XLSX)."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through a temporary file: copy its bytes, not its mtime
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read())


def _xlsx_bytes(wb) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = FIXED_XLSX_TIME
    wb.properties.modified = FIXED_XLSX_TIME
    wb.properties.creator = "lensan generate"
    buf = io.BytesIO()
    archive = _FixedZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


BOM = b"\xef\xbb\xbf"


def _csv_writer(fh, delimiter: str):
    """The CSV dialect of S2/S3: `"` quoting when needed, CRLF line ends (fh: a text stream)."""
    return csv.writer(fh, delimiter=delimiter, quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def _jsonl_line(row: dict) -> str:
    """One S4 JSON Lines record (UTF-8 kept as is, compact separators, LF)."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _csv_bytes(headers, rows, delimiter: str, bom: bool) -> bytes:
    buf = io.StringIO()
    writer = _csv_writer(buf, delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return (BOM if bom else b"") + buf.getvalue().encode("utf-8")


def _jsonl_gz_bytes(rows: list[dict]) -> bytes:
    raw = "".join(_jsonl_line(r) for r in rows).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(raw)
    return buf.getvalue()


class _Writer:
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


def _extract_name(platform: str, entity: str, day: dt.date) -> str:
    if platform == "postmart":
        return f"postmart_{entity}_{day:%Y%m%d}.csv"
    return f"voso_{entity}_{day:%Y-%m-%d}.jsonl.gz"


def _extract_delivery(day: dt.date) -> dt.datetime:
    """Daily extracts arrive the next day at 02:00 local."""
    return _local(day + dt.timedelta(days=1), 2, 0)


# --- S1 weekly form --------------------------------------------------------------------------------

def _vn_text(value: float | int, decimals: int) -> str:
    """A number as typed in Vietnamese: thousands dot, decimal comma (1.234 · 12,5 · 1.234,5)."""
    if isinstance(value, int) or decimals == 0:
        return f"{int(round(value)):,}".replace(",", ".")
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text.rstrip("0").rstrip(",")


def _typed_number(rng: random.Random, value: float | int | None, decimals: int = 0):
    """A value as a person types it in Excel: mostly a number cell, sometimes text."""
    if value is None:
        return rng.choice(("-", None, "–")) if rng.random() < 0.8 else None
    value = int(round(value)) if decimals == 0 else round(float(value), decimals)
    return value if rng.random() < 0.78 else _vn_text(value, decimals)


def _typed_pct(rng: random.Random, value: float | None):
    if value is None:
        return None if rng.random() < 0.7 else "-"
    value = round(value, 1)
    r = rng.random()
    if r < 0.6:
        return int(value) if value == int(value) else value
    text = _vn_text(value, 1)
    return text + "%" if r < 0.9 else text


def _regions_note(rng: random.Random, map_version: str, codes: list[str]) -> str:
    provs = reference.provinces()
    by_region: dict[str, list[str]] = {"Miền Bắc": [], "Miền Trung": [], "Miền Nam": []}
    for code in codes:
        row = provs.get((map_version, code))
        if row:
            by_region.setdefault(row["region_name"], []).append(row["province_short_name"])
    if not codes:
        return ""
    if rng.random() < 0.6:
        return "; ".join(f"{region}: {', '.join(names)}" for region, names in by_region.items() if names)
    lines = ["Danh sách các tỉnh thành:"] + [f"- {region}: {', '.join(names)}" for region, names in by_region.items()]
    return "\n".join(lines)


def _countries_note(rng: random.Random, codes: list[str]) -> str:
    names = dict(_countries())
    if not codes:
        return ""
    text = ", ".join(names[c] for c in codes)
    return f"Danh sách các quốc gia:\n{text}" if rng.random() < 0.3 else text


def _form_rows(rng: random.Random, u: Unit, week: str, truth: dict, prev: dict | None, noise: float) -> list[list]:
    """The 17 indicator rows (values + notes) as the unit types them."""
    ws, we = periods.week_bounds(week)
    ind = truth["indicators"]
    prev_ind = prev["indicators"] if prev else None
    rows = []
    for spec in reference.weekly_form_indicators():
        code = spec.code
        level = ind[code]
        typo = rng.random() < noise and code not in ("info_items", "info_update_days")
        if code == "volume_sold_t":
            week_val, cum = ind[code], ind["volume_sold_t_ytd"]
            if typo:
                factor = rng.uniform(0.85, 1.15)
                week_val, cum = round(week_val * factor, 3), round(cum * factor, 3)
            prev_week = prev_ind[code] if prev_ind else None
            growth = (week_val - prev_week) / prev_week * 100 if prev_week else None
            decimals = 3
        elif code == "info_update_days":
            week_val, cum, growth, decimals = level, level, None, 0
        else:
            before = prev_ind[code] if prev_ind else None
            cum = max(0, level + rng.choice((-2, -1, 1, 1, 2, 3))) if typo else level
            week_val = max(0, cum - before) if before is not None else None
            growth = (week_val / before * 100) if before and week_val is not None else None
            decimals = 0
        not_reported = rng.random() < noise * 0.4
        completion = None
        basis, base_code = _indicator_base_codes()[code]
        target = _targets().get((u.map_version, u.province, code, we.year))
        if target and cum is not None:
            ttype, tval = target
            if ttype == "absolute" and tval:
                completion = cum / tval * 100
            elif ttype == "pct_of_base" and base_code == "agri_households":
                base = _unit_bases().get((u.map_version, u.code, we.year, base_code))
                if base:
                    completion = cum / (tval / 100 * base) * 100
        notes = ""
        if code == "domestic_markets":
            notes = _regions_note(rng, u.map_version, truth["domestic_provinces"])
        elif code == "foreign_markets":
            notes = _countries_note(rng, truth["foreign_countries"])
        elif rng.random() < 0.02:
            notes = rng.choice(("Số liệu tạm tính", "Đang rà soát", "Theo thực tế"))
        label = spec.label_vi
        if rng.random() < 0.25:
            variants = LABEL_VARIANTS.get(code, ())
            label = rng.choice(variants) if variants and rng.random() < 0.8 else label[:45].rstrip(" ,") + "..."
        unit_label = UNIT_VARIANTS.get(spec.unit_vi, spec.unit_vi) if rng.random() < 0.15 else spec.unit_vi
        tt = spec.tt if spec.tt == "I" else int(spec.tt)
        if not_reported:
            d_cell, e_cell, f_cell, g_cell = rng.choice((("-", None, "-", None), (None, None, None, None)))
        else:
            d_cell = _typed_number(rng, week_val, decimals)
            e_cell = _typed_pct(rng, growth)
            f_cell = _typed_number(rng, cum, decimals)
            g_cell = _typed_pct(rng, completion)
        rows.append([spec.section, tt, label, unit_label, d_cell, e_cell, f_cell, g_cell, notes or None])
    return rows


@lru_cache
def _form_package() -> tuple[tuple[tuple[str, bytes], ...], dict[str, int]]:
    """The fixed parts of a weekly-form workbook and its style ids, made once with openpyxl.

    Writing hundreds of small workbooks through openpyxl costs ~10 ms each; only the worksheet
    differs between forms, so it is serialised directly (same XML openpyxl writes: inline strings).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    sh = wb.active
    sh.title = "Báo cáo tuần"
    styles = {"bold": Font(bold=True), "title": Font(bold=True, size=14)}
    sh["A1"], sh["A2"], sh["A3"], sh["A4"] = "bold", "title", "heading", "wrap"
    sh["A1"].font = styles["bold"]
    sh["A2"].font = styles["title"]
    sh["A3"].font = styles["bold"]
    sh["A3"].alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    sh["A4"].alignment = Alignment(wrap_text=True)
    with zipfile.ZipFile(io.BytesIO(_xlsx_bytes(wb))) as zf:
        parts = tuple((name, zf.read(name)) for name in zf.namelist())
    sheet = dict(parts)["xl/worksheets/sheet1.xml"].decode("utf-8")
    ids = {}
    for row, name in ((1, "bold"), (2, "title"), (3, "heading"), (4, "wrap")):
        match = re.search(rf'<c r="A{row}" s="(\d+)"', sheet)
        ids[name] = int(match[1]) if match else 0
    return parts, ids


_COLS = " ABCDEFGH"
_COL_WIDTHS = (6, 60, 12, 16, 14, 16, 16, 40)


def _sheet_xml(cells: dict[tuple[int, int], tuple[object, str | None]], merges: list[str]) -> bytes:
    _, style_ids = _form_package()
    last_row = max(r for r, _ in cells)
    out = ['<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr>'
           '<outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr /></sheetPr>',
           f'<dimension ref="A1:H{last_row}" />',
           '<sheetViews><sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1" /></sheetView>'
           '</sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>']
    out += [f'<col width="{w}" customWidth="1" min="{i}" max="{i}" />' for i, w in enumerate(_COL_WIDTHS, start=1)]
    out.append("</cols><sheetData>")
    for r in sorted({r for r, _ in cells}):
        out.append(f'<row r="{r}">')
        for c in sorted(c for rr, c in cells if rr == r):
            value, style = cells[(r, c)]
            ref = f"{_COLS[c]}{r}"
            s_attr = f' s="{style_ids[style]}"' if style else ""
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                text = xml_escape(str(value))
                space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
                out.append(f'<c r="{ref}"{s_attr} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                out.append(f'<c r="{ref}"{s_attr} t="n"><v>{value!r}</v></c>')
        out.append("</row>")
    out.append("</sheetData>")
    if merges:
        out.append(f'<mergeCells count="{len(merges)}">')
        out += [f'<mergeCell ref="{m}" />' for m in merges]
        out.append("</mergeCells>")
    out.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')
    return "".join(out).encode("utf-8")


def _form_workbook(rng: random.Random, u: Unit, week: str, reporter: tuple[str, str], rows: list[list]) -> bytes:
    ws_start, ws_end = periods.week_bounds(week)
    year, wk = week.split("-W")
    cells: dict[tuple[int, int], tuple[object, str | None]] = {}
    merges: list[str] = []
    r = 1

    def header(text: str, style: str | None = None):
        nonlocal r
        cells[(r, 1)] = (text, style)
        merges.append(f"A{r}:H{r}")
        r += 1

    header(f"UBND {u.name.upper()}", "bold")
    label = rng.choice(CODE_LABELS)
    style = rng.random()
    if style < 0.6:
        header(f"{label} {u.code}")
    else:   # label in A, code in B — sometimes typed as a number, losing its leading zeros
        cells[(r, 1)] = (label, None)
        cells[(r, 2)] = (int(u.code) if style < 0.8 else u.code, None)
        r += 1
    header("BÁO CÁO TUẦN", "title")
    if rng.random() < 0.2:
        header("(trước 14h00 thứ 5 hằng tuần)")
    header(f"Tuần {int(wk)}/{year} (từ ngày {ws_start:%d/%m/%Y} đến ngày {ws_end:%d/%m/%Y})")
    header(f"Người báo cáo: {reporter[0]}")
    header(f"Số điện thoại: {reporter[1]}")
    r += 1
    for c, heading in enumerate(FORM_HEADINGS, start=1):
        cells[(r, c)] = (heading, "heading")
    r += 1
    current_section = None
    for section, tt, label, unit_label, d, e, f, g, notes in rows:
        if section != current_section and section != "I":
            cells[(r, 1)] = (section, None)
            cells[(r, 2)] = (SECTION_TITLES[section], "bold")
            merges.append(f"B{r}:H{r}")
            r += 1
        current_section = section
        for c, value in enumerate((tt, label, unit_label, d, e, f, g, notes), start=1):
            if value is not None and value != "":
                cells[(r, c)] = (value, "wrap" if c == 8 else None)
        r += 1
    r += 1
    cells[(r, 6)] = (f"Ngày {ws_end + dt.timedelta(days=3):%d} tháng {ws_end.month} năm {ws_end.year}", None)
    cells[(r + 1, 6)] = ("NGƯỜI BÁO CÁO", "bold")
    parts, _ = _form_package()
    buf = io.BytesIO()
    with _FixedZip(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, _sheet_xml(cells, merges) if name == "xl/worksheets/sheet1.xml" else data)
    return buf.getvalue()


# --- S2 register -----------------------------------------------------------------------------------

REGISTER_HEADINGS = ("Mã hộ", "Họ tên chủ hộ", "Số điện thoại", "Số CCCD", "Mã xã", "Loại hộ", "Sản phẩm chính",
                     "Ngày đào tạo kỹ năng số", "Ngày đào tạo đóng gói - kết nối - giao nhận", "Mức độ đào tạo")


def _register_rows(rng: random.Random, u: Unit) -> list[list[str]]:
    rows = []
    for hh in u.households:
        rows.append([hh.code, hh.name, _format_phone(rng, hh.phone), hh.citizen_id, hh.commune, hh.type,
                     hh.main_product, f"{hh.trained_digital:%d/%m/%Y}" if hh.trained_digital else "",
                     f"{hh.trained_logistics:%d/%m/%Y}" if hh.trained_logistics else "", hh.level])
    return rows


def _register_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sh = wb.active
    sh.title = "Danh sách hộ SXNN"
    sh.append(list(REGISTER_HEADINGS))
    for c in range(1, len(REGISTER_HEADINGS) + 1):
        sh.cell(1, c).font = Font(bold=True)
    for row in rows:
        sh.append([v if v != "" else None for v in row])
    # text cells so phone / CCCD / codes keep their leading zeros
    for row in sh.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    return _xlsx_bytes(wb)


# --- S3/S4 platform rows --------------------------------------------------------------------------

def _shop_row(platform: str, s: Shop, epay: bool):
    if platform == "postmart":
        return [s.shop_id, s.owner_phone, s.household.code if s.household else "", s.commune, _pm_time(s.created),
                _pm_bool(epay), "Hoạt động" if s.status == "active" else "Tạm khóa"]
    return {"shop_id": s.shop_id, "owner_phone": s.owner_phone,
            "household_code": s.household.code if s.household else None, "ward_code": s.commune,
            "created_at": _vs_time(s.created), "has_ewallet": epay, "status": s.status}


def _product_row(platform: str, p: Product):
    if platform == "postmart":
        return [p.product_id, p.shop.shop_id, p.name, "Nông sản" if p.group == "agri" else "Đầu vào", p.type,
                str(p.stars), _pm_bool(p.traceable), _pm_bool(p.brand), _pm_bool(p.discount), _pm_time(p.listed)]
    return {"product_id": p.product_id, "shop_id": p.shop.shop_id, "name": p.name,
            "product_group": "agricultural" if p.group == "agri" else "input", "product_type": p.type,
            "ocop_stars": p.stars, "traceable": p.traceable, "brand_marked": p.brand,
            "household_discount": p.discount, "listed_at": _vs_time(p.listed)}


def _order_row(platform: str, o: Order, status: str, updated: dt.datetime):
    if platform == "postmart":
        return [o.order_id, _pm_time(o.ordered), o.product.shop.shop_id, o.buyer_account, o.buyer_phone,
                o.product.product_id, str(o.quantity), _pm_decimal(o.weight_kg), str(o.amount), o.province,
                o.country, PM_STATUS[status], _pm_time(updated)]
    return {"order_id": o.order_id, "ordered_at": _vs_time(o.ordered), "shop_id": o.product.shop.shop_id,
            "buyer_account_id": o.buyer_account, "buyer_phone": o.buyer_phone, "product_id": o.product.product_id,
            "quantity": o.quantity, "weight_g": int(round(o.weight_kg * 1000)), "amount_vnd": o.amount,
            "buyer_province_code": o.province or None, "buyer_country": o.country, "status": VS_STATUS[status],
            "updated_at": _vs_time(updated)}


def _activity_row(platform: str, moment: dt.datetime, account: str, kind: str, commune: str):
    if platform == "postmart":
        return [account, _pm_time(moment), PM_ACTIVITY[kind], commune]
    return {"account_id": account, "occurred_at": _vs_time(moment), "activity_type": VS_ACTIVITY[kind],
            "ward_code": commune or None}


def _post_row(platform: str, post: tuple):
    _, post_id, category, province, moment = post
    if platform == "postmart":
        return [post_id, category, province, _pm_time(moment)]
    return {"post_id": post_id, "category": category, "province_code": province, "posted_at": _vs_time(moment)}


def _unit_platform_rows(u: Unit):
    """Every platform row of a unit: (platform, postmart entity, voso entity, day, sort key, row)."""
    for s in u.shops:
        yield s.platform, "gian_hang", "shops", s.created.date(), (s.created, s.shop_id), \
            _shop_row(s.platform, s, s.epay_initial)
        if s.epay_on is not None:
            yield s.platform, "gian_hang", "shops", s.epay_on.date(), (s.epay_on, s.shop_id), \
                _shop_row(s.platform, s, True)
        for p in s.products:
            yield p.platform, "san_pham", "products", p.listed.date(), (p.listed, p.product_id), \
                _product_row(p.platform, p)
    for o in u.orders:
        yield o.platform, "don_hang", "orders", o.updated.date(), (o.updated, o.order_id), \
            _order_row(o.platform, o, o.status, o.updated)
        if o.returned is not None:
            yield o.platform, "don_hang", "orders", o.returned.date(), (o.returned, o.order_id), \
                _order_row(o.platform, o, "returned", o.returned)
    for platform, moment, account, kind, commune in u.activities:
        yield platform, "hoat_dong", "activities", moment.date(), (moment, account, kind), \
            _activity_row(platform, moment, account, kind, commune)


def _unit_reporter(seed: int, u: Unit) -> tuple[str, str]:
    reporter_rng = _rng(seed, "reporter", u.map_version, u.code)
    return _person_name(reporter_rng), _phone(reporter_rng)


def _deliver_form(writer: _Writer, seed: int, u: Unit, w: str, t: dict, prev_truth: dict,
                  reporter: tuple[str, str], late: bool) -> list[dict]:
    """Write the unit's weekly form for `w` (and its resend, if any); the files as {name, delivered_at}."""
    fr = _rng(seed, "form", u.map_version, u.code, w)
    deadline = periods.weekly_deadline(w)
    files = []
    _, sunday = periods.week_bounds(w)
    if late:
        delivered = _local(sunday + dt.timedelta(days=fr.choice((5, 5, 6, 8))), fr.randint(8, 16),
                           fr.randint(0, 59))
    else:
        day_offset = fr.choice((2, 3, 3, 4))
        hour = fr.randint(7, 12) if day_offset == 4 else fr.randint(7, 17)
        delivered = min(_local(sunday + dt.timedelta(days=day_offset), hour, fr.randint(0, 59)),
                        deadline - dt.timedelta(minutes=fr.randint(5, 60)))
    phone_typed = _format_phone(fr, reporter[1])
    rows = _form_rows(fr, u, w, t, prev_truth, noise=0.12)
    name = f"bao_cao_tuan_{u.code}_{w}.xlsx"
    data = _form_workbook(random.Random(fr.random()), u, w, (reporter[0], phone_typed), rows)
    writer.write("weekly_form", name, data, delivered, "weekly_form", len(rows))
    files.append({"name": name, "delivered_at": delivered.isoformat()})
    if fr.random() < RESEND_PROBABILITY:
        rows2 = _form_rows(random.Random(fr.random()), u, w, t, prev_truth, noise=0.0)
        resent = delivered + dt.timedelta(hours=fr.randint(2, 30))
        name2 = f"bao_cao_tuan_{u.code}_{w}_2.xlsx"
        data2 = _form_workbook(random.Random(fr.random()), u, w, (reporter[0], phone_typed), rows2)
        writer.write("weekly_form", name2, data2, resent, "weekly_form", len(rows2))
        files.append({"name": name2, "delivered_at": resent.isoformat()})
    return files


def _deliver_register(writer: _Writer, seed: int, u: Unit, last_sunday: dt.date) -> Path:
    """Write the unit's household register snapshot dated `last_sunday` (CSV, sometimes XLSX)."""
    rr = _rng(seed, "register", u.map_version, u.code)
    reg_rows = _register_rows(rr, u)
    delivered = _local(last_sunday + dt.timedelta(days=1), rr.randint(8, 11), rr.randint(0, 59))
    if rr.random() < REGISTER_XLSX_SHARE:
        name, data = f"danh_sach_ho_{u.code}_{last_sunday:%Y%m%d}.xlsx", _register_xlsx(reg_rows)
    else:
        name, data = (f"danh_sach_ho_{u.code}_{last_sunday:%Y%m%d}.csv",
                      _csv_bytes(REGISTER_HEADINGS, reg_rows, ",", bom=rr.random() < 0.5))
    return writer.write("household_register", name, data, delivered, "household_register", len(reg_rows))


# ==================================================================================================
# Entry point
# ==================================================================================================

def generate(provinces: list[str] | None, weeks: list[str], seed: int = 1034, home: Path | None = None,
             orders_per_unit_week: int = 12, late_units: int = 0, missing_units: int = 0,
             progress: Callable[[str], None] | None = None) -> GenerateSummary:
    """Write sample raw files for `provinces` × `weeks` into <home>/landing/<source>/ (see module doc).

    `provinces` are codes on the map of the earliest week (None = all); later weeks on the other
    map get the crosswalked provinces. `late_units` units per week deliver their form after the
    deadline; `missing_units` units send no form for the last week.
    """
    say = progress or (lambda message: None)
    if not weeks:
        raise ValueError("no weeks to generate")
    weeks = sorted(set(weeks), key=lambda w: periods.week_bounds(w)[0])
    home = Path(home) if home is not None else settings.lensan_home()
    writer = _Writer(home)
    week_map = {w: reference.map_version_for(periods.week_bounds(w)[0]) for w in weeks}
    first_map = week_map[weeks[0]]
    truth_out: dict = {"seed": seed, "weeks": weeks, "provinces": {}, "units": {}, "forms": {}}

    pm_rows: dict[tuple[str, dt.date], list] = defaultdict(list)
    vs_rows: dict[tuple[str, dt.date], list] = defaultdict(list)

    def add(platform: str, entity_pm: str, entity_vs: str, day: dt.date, sort_key, row):
        if platform == "postmart":
            pm_rows[(entity_pm, day)].append((sort_key, row))
        else:
            vs_rows[(entity_vs, day)].append((sort_key, row))

    all_days: list[dt.date] = []
    for mv in ("pre2025", "post2025"):
        mv_weeks = [w for w in weeks if week_map[w] == mv]
        if not mv_weeks:
            continue
        codes = provinces_for_map(mv, provinces, first_map)
        truth_out["provinces"][mv] = codes
        units = reference.reporting_units(mv, codes)
        if not units:
            raise ValueError(f"no reporting units for provinces {codes} on the {mv} map")
        say(f"{mv}: {len(codes)} province(s), {len(units)} reporting units, weeks {mv_weeks[0]}..{mv_weeks[-1]}")
        days = sorted(d for w in mv_weeks for d in _week_days(w))
        all_days.extend(days)
        posts_by_prov = {p: _info_posts(seed, mv, p, days) for p in codes}
        for p, posts in posts_by_prov.items():
            for post in posts:
                add(post[0], "thong_tin", "info_posts", post[4].date(), (post[4], post[1]), _post_row(post[0], post))

        # which units deliver late / not at all
        sched = _rng(seed, "schedule", mv)
        missing = set(sched.sample([u.code for u in units], min(missing_units, len(units)))) \
            if mv_weeks[-1] == weeks[-1] else set()
        late_by_week = {}
        for w in mv_weeks:
            pool = [u.code for u in units if not (w == weeks[-1] and u.code in missing)]
            late_by_week[w] = set(_rng(seed, "late", mv, w).sample(pool, min(late_units, len(pool))))

        for index, ref_unit in enumerate(units):
            u = _build_unit(seed, ref_unit, mv_weeks, orders_per_unit_week)
            key = f"{mv}:{u.code}"
            unit_truth = {"map_version": mv, "unit_code": u.code, "unit_name": u.name, "province_code": u.province,
                          "weeks": {}}
            truth_out["units"][key] = unit_truth
            # platform rows
            for platform, entity_pm, entity_vs, day, sort_key, row in _unit_platform_rows(u):
                add(platform, entity_pm, entity_vs, day, sort_key, row)

            # weekly forms
            reporter = _unit_reporter(seed, u)
            for w in mv_weeks:
                t = _truth(u, w, posts_by_prov[u.province])
                # the calendar week before (generated or not): what the unit had at the start of the week
                prev_truth = _truth(u, periods.week_key(periods.week_bounds(w)[0] - dt.timedelta(days=7)),
                                    posts_by_prov[u.province])
                unit_truth["weeks"][w] = t
                late = u.code in late_by_week[w]
                form_info = {"unit": key, "week": w, "late": late, "missing": False, "files": []}
                truth_out["forms"][f"{key}:{w}"] = form_info
                if w == weeks[-1] and u.code in missing:
                    form_info["missing"] = True
                    continue
                form_info["files"].extend(_deliver_form(writer, seed, u, w, t, prev_truth, reporter, late))

            # register snapshot for the last week of this map
            _deliver_register(writer, seed, u, periods.week_bounds(mv_weeks[-1])[1])
            if progress and (index + 1) % 50 == 0:
                say(f"{mv}: {index + 1}/{len(units)} units")

    # daily platform files (every entity, every day, possibly with no rows)
    say(f"writing platform extracts for {len(all_days)} days")
    for day in sorted(set(all_days)):
        delivered = _extract_delivery(day)
        for entity in PM_ENTITIES:
            rows = [row for _, row in sorted(pm_rows.get((entity, day), []), key=lambda x: x[0])]
            assert all(len(row) == len(PM_HEADERS[entity]) for row in rows[:1]), entity
            writer.write("postmart", _extract_name("postmart", entity, day),
                         _csv_bytes(PM_HEADERS[entity], rows, ";", bom=True), delivered, f"postmart_{entity}", len(rows))
        for entity in VS_ENTITIES:
            rows = [row for _, row in sorted(vs_rows.get((entity, day), []), key=lambda x: x[0])]
            assert all(tuple(row) == VS_FIELDS[entity] for row in rows[:1]), entity
            writer.write("voso", _extract_name("voso", entity, day), _jsonl_gz_bytes(rows), delivered,
                         f"voso_{entity}", len(rows))

    truth_path = home / "generated" / "truth.json"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth_out, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    say(f"wrote {len(writer.paths)} files; truth in {truth_path}")
    return GenerateSummary(dict(writer.files_by_source), dict(writer.rows_by_entity), sorted(writer.paths))
