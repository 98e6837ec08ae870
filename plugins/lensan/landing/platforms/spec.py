"""What a platform extract is: the entities and columns of postmart.vn CSV and voso.vn JSON Lines, and
the file names that say which entity and extract date a file holds.

`describe(name)` recognises the platform, entity, raw table and extract date from the file name; the
readers (`platforms.reference`, `platforms.fast`) take the resulting `Extract`. Column kinds decide how
a value is checked: ids and dates are required, booleans/numbers/dates are validated, phones hashed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from lensan.landing.errors import LandingError

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

Hasher = Callable[[str, object], "str | None"]


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

