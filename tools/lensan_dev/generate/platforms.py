"""S3/S4: the rows of the postmart CSV and voso JSON Lines extracts (vocabularies, headers, time formats)."""

from __future__ import annotations

import datetime as dt

from lensan_dev.generate.common import LOCAL_TZ, UTC, pm_decimal
from lensan_dev.generate.population import Order, Product, Shop, Unit

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


def pm_time(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M:%S")


def vs_time(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pm_bool(value: bool) -> str:
    return "Có" if value else "Không"


def _shop_row(platform: str, s: Shop, epay: bool):
    if platform == "postmart":
        return [s.shop_id, s.owner_phone, s.household.code if s.household else "", s.commune, pm_time(s.created),
                _pm_bool(epay), "Hoạt động" if s.status == "active" else "Tạm khóa"]
    return {"shop_id": s.shop_id, "owner_phone": s.owner_phone,
            "household_code": s.household.code if s.household else None, "ward_code": s.commune,
            "created_at": vs_time(s.created), "has_ewallet": epay, "status": s.status}


def _product_row(platform: str, p: Product):
    if platform == "postmart":
        return [p.product_id, p.shop.shop_id, p.name, "Nông sản" if p.group == "agri" else "Đầu vào", p.type,
                str(p.stars), _pm_bool(p.traceable), _pm_bool(p.brand), _pm_bool(p.discount), pm_time(p.listed)]
    return {"product_id": p.product_id, "shop_id": p.shop.shop_id, "name": p.name,
            "product_group": "agricultural" if p.group == "agri" else "input", "product_type": p.type,
            "ocop_stars": p.stars, "traceable": p.traceable, "brand_marked": p.brand,
            "household_discount": p.discount, "listed_at": vs_time(p.listed)}


def _order_row(platform: str, o: Order, status: str, updated: dt.datetime):
    if platform == "postmart":
        return [o.order_id, pm_time(o.ordered), o.product.shop.shop_id, o.buyer_account, o.buyer_phone,
                o.product.product_id, str(o.quantity), pm_decimal(o.weight_kg), str(o.amount), o.province,
                o.country, PM_STATUS[status], pm_time(updated)]
    return {"order_id": o.order_id, "ordered_at": vs_time(o.ordered), "shop_id": o.product.shop.shop_id,
            "buyer_account_id": o.buyer_account, "buyer_phone": o.buyer_phone, "product_id": o.product.product_id,
            "quantity": o.quantity, "weight_g": int(round(o.weight_kg * 1000)), "amount_vnd": o.amount,
            "buyer_province_code": o.province or None, "buyer_country": o.country, "status": VS_STATUS[status],
            "updated_at": vs_time(updated)}


def _activity_row(platform: str, moment: dt.datetime, account: str, kind: str, commune: str):
    if platform == "postmart":
        return [account, pm_time(moment), PM_ACTIVITY[kind], commune]
    return {"account_id": account, "occurred_at": vs_time(moment), "activity_type": VS_ACTIVITY[kind],
            "ward_code": commune or None}


def post_row(platform: str, post: tuple):
    _, post_id, category, province, moment = post
    if platform == "postmart":
        return [post_id, category, province, pm_time(moment)]
    return {"post_id": post_id, "category": category, "province_code": province, "posted_at": vs_time(moment)}


def unit_platform_rows(u: Unit):
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
