"""Personal data of the simulated people: Vietnamese names, phone numbers (as typed), citizen ids."""

from __future__ import annotations

import random

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


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.55:
        return f"{rng.choice(HO)} {rng.choice(DEM_NAM)} {rng.choice(TEN_NAM)}"
    return f"{rng.choice(HO)} {rng.choice(DEM_NU)} {rng.choice(TEN_NU)}"


def random_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def format_phone(rng: random.Random, phone: str) -> str:
    """The same number as different people type it: 0912345678, 0912 345 678, +84912345678, ..."""
    r = rng.random()
    if r < 0.55:
        return phone
    if r < 0.75:
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    if r < 0.9:
        return "+84" + phone[1:]
    return f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}"


def citizen_id(rng: random.Random, province_code: str) -> str:
    century_gender = rng.choice("0123")
    return f"0{province_code[-2:]}{century_gender}{rng.randint(50, 99) if century_gender in '01' else rng.randint(0, 9):02d}{rng.randrange(10**6):06d}"
