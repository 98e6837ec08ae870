"""The simulated population of a reporting unit: households, shops, products, orders, account activity,
and the information posts of a province."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from lensan import reference

from lensan_dev.generate.common import clip_day, days_of_week, pm_decimal, rand_time, rng_for
from lensan_dev.generate.lookups import communes_by_district, communes_by_province, countries, info_categories, \
    province_codes
from lensan_dev.generate.people import citizen_id, format_phone, person_name, random_phone

# Size of the simulated population (households per reporting unit, inclusive range).
HOUSEHOLDS_PER_UNIT = (15, 40)
# Share of households per type in the register.
HOUSEHOLD_TYPES = (("Hộ SXNN", 0.84), ("Hộ kinh doanh", 0.08), ("HTX", 0.05), ("Tổ hợp tác", 0.03))


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


PLATFORM_PREFIX = {"postmart": "PM", "voso": "VS"}
ACCOUNT_PREFIX = {"postmart": "PMTK", "voso": "VSAC"}


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


def household_count(map_version: str, unit_code: str,
                    households_per_unit: tuple[int, int] = HOUSEHOLDS_PER_UNIT) -> int:
    """How many households a unit's population has: a property of the unit, the same for every seed
    (the seed draws who they are and what they do), so the sample bases (lensan_dev.generate.bases)
    are the population's size whatever the seed."""
    return random.Random(f"households|{map_version}|{unit_code}").randint(*households_per_unit)


def build_unit(seed: int, unit: reference.AdminUnit, weeks: list[str], orders_per_week: int,
               households_per_unit: tuple[int, int] = HOUSEHOLDS_PER_UNIT,
               search_per_order: float = 1.0) -> Unit:
    """The simulated population of one reporting unit over `weeks`.

    `households_per_unit` (inclusive range) sizes the population; `search_per_order` is the share of
    orders preceded by a buyer search event (1.0: every order, without drawing — the sample default).
    """
    mv = unit.map_version
    rng = rng_for(seed, "population", mv, unit.code)
    days = sorted(d for w in weeks for d in days_of_week(w))
    first = days[0]
    u = Unit(mv, unit.code, unit.name, unit.province_code, days)
    communes = [unit.code] if mv == "post2025" else (communes_by_district().get(unit.code) or [unit.code])

    # Households ------------------------------------------------------------------------------
    n = household_count(mv, unit.code, households_per_unit)
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
            code=f"HH{unit.code}-{i + 1:05d}", name=person_name(rng), phone=random_phone(rng),
            citizen_id=citizen_id(rng, unit.province_code), commune=rng.choice(communes), type=hh_type,
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
        created = rand_time(rng, created_day, 7, 20)
        if hh is not None:
            phone, account, commune = hh.phone, hh.accounts[platform], hh.commune
        else:
            phone, account = random_phone(rng), f"{ACCOUNT_PREFIX[platform]}9{unit.code}{k:03d}"
            commune = rng.choice(communes)
        epay_initial = rng.random() < (0.6 if platform == "postmart" else 0.7)
        epay_on = None
        if not epay_initial and rng.random() < 0.4:
            later = [d for d in days if d > created_day]
            if later:
                epay_on = rand_time(rng, rng.choice(later), 8, 20)
        shop = Shop(platform, f"{pf}{'GH' if platform == 'postmart' else 'SH'}{unit.code}{k:03d}", hh,
                    format_phone(rng, phone), account, commune, created, epay_initial, epay_on,
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
                else rand_time(rng, listed_day, 7, 21)
            listed = clip_day(listed, listed_day)
            name = f"{rng.choice(names)} {u.name.split(' ', 1)[-1]}" if rng.random() < 0.4 else rng.choice(names)
            if kg >= 1 and rng.random() < 0.5:
                name += f" {pm_decimal(kg)}kg"
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
        wr = rng_for(seed, "orders", mv, unit.code, week)
        week_days = days_of_week(week)
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
            ordered = rand_time(wr, day, 6, 22)
            if ordered <= product.listed:
                ordered = clip_day(product.listed + dt.timedelta(minutes=wr.randint(10, 90)), day)
            household = None
            if product.group == "input" and sxnn and wr.random() < 0.7:
                household = wr.choice(sxnn)
            foreign = product.group == "agri" and wr.random() < 0.04
            if household is not None:
                account, phone = household.accounts[product.platform], household.phone
                province, country, buyer_commune = unit.province_code, "VN", household.commune
            else:
                account, phone = f"{ACCOUNT_PREFIX[product.platform]}8{wr.randrange(10**9):09d}", random_phone(wr)
                if foreign:
                    province, country, buyer_commune = "", wr.choice([c for c, _ in countries() if c != "VN"]), ""
                else:
                    r = wr.random()
                    all_codes = province_codes(mv)
                    province = unit.province_code if r < 0.4 else (
                        wr.choice(BIG_MARKETS) if r < 0.7 else wr.choice(all_codes))
                    country = "VN"
                    buyer_commune = wr.choice(communes_by_province(mv).get(province, [""]))
            quantity = wr.randint(10, 40) if wr.random() < 0.05 else wr.randint(1, 5)
            r = wr.random()
            status = "cancelled" if r < 0.1 else "success"
            updated = clip_day(ordered + dt.timedelta(minutes=wr.randint(1, 600)), day)
            order = Order(product.platform, f"{pf}{'DH' if product.platform == 'postmart' else 'OR'}"
                          f"{day:%Y%m%d}{unit.code}{seq:04d}", ordered, updated, product, account,
                          format_phone(wr, phone), household, buyer_commune, quantity,
                          round(quantity * product.kg_per_unit, 3), quantity * product.price_per_unit,
                          province, country, status)
            later = [d for d in days if day + dt.timedelta(days=2) <= d <= day + dt.timedelta(days=6)]
            want_return = status == "success" and later and (
                wr.random() < 0.04 or (product.platform == "voso" and not returned_forced))
            if want_return:
                order.returned = rand_time(wr, wr.choice(later), 8, 20)
                if product.platform == "voso":
                    returned_forced = True
            u.orders.append(order)

    # Account activity -------------------------------------------------------------------------
    ar = rng_for(seed, "activity", mv, unit.code)
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
                u.activities.append((shop.platform, rand_time(ar, day, 6, 22), shop.account_id, "message",
                                     shop.commune))
        for hh in u.households:
            if hh.trained_digital is not None and hh.trained_digital <= day and ar.random() < 0.03:
                platform = ar.choice(("postmart", "voso"))
                u.activities.append((platform, rand_time(ar, day, 6, 22), hh.accounts[platform], "search", hh.commune))
    u.activities = [a for a in u.activities if a[1].date() in set(days)]
    return u


def info_posts(seed: int, map_version: str, province: str, days: list[dt.date]) -> list[tuple]:
    """(platform, post_id, category, province, posted_at) for one province."""
    posts = []
    for platform in ("postmart", "voso"):
        r = rng_for(seed, "info", map_version, province, platform)
        pf = PLATFORM_PREFIX[platform]
        for day in days:
            if r.random() < 0.4:
                continue
            for k in range(r.randint(1, 3)):
                posts.append((platform, f"{pf}TT{province}{day:%Y%m%d}{k + 1:02d}",
                              r.choice(info_categories()), province, rand_time(r, day, 7, 21)))
    return posts
