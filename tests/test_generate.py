"""The sample generator writes exactly the formats of docs/raw_formats.md, reproducibly.

Expected headings and field lists are typed here from the document, not imported from the
generator, so a drift between the two fails the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from lensan import reference

from lensan.calendar import periods
from lensan.landing.parsers import household_register, weekly_form
from lensan.landing.platforms import spec as platform_spec
from lensan.settings import LOCAL_TZ
from lensan_dev.generate import GenerateSummary, generate, provinces_for_map

pytestmark = pytest.mark.unit

WEEKS = ["2026-W46", "2026-W47"]
ARGS = dict(provinces=["22"], weeks=WEEKS, seed=7, orders_per_unit_week=8, late_units=2, missing_units=1)

# The generator writes what landing reads: the headings and fields are the landing's own column specs.
PM_HEADERS = {entity: [heading for heading, _, _ in spec] for entity, (_, spec) in platform_spec.POSTMART.items()}
VS_FIELDS = {entity: [field for field, _, _ in spec] for entity, (_, spec) in platform_spec.VOSO.items()}
REGISTER_HEADINGS = [heading for heading, _ in household_register.COLUMNS]
FORM_HEADINGS = [heading for _, heading in weekly_form.COLUMNS]
NAME_PATTERNS = {
    "weekly_form": re.compile(r"^bao_cao_tuan_(\d{3}|\d{5})_(\d{4}-W\d{2})(_\d+)?\.xlsx$"),
    "household_register": re.compile(r"^danh_sach_ho_(\d{3}|\d{5})_(\d{8})\.(csv|xlsx)$"),
    "postmart": re.compile(r"^postmart_(gian_hang|san_pham|don_hang|hoat_dong|thong_tin)_(\d{8})\.csv$"),
    "voso": re.compile(r"^voso_(shops|products|orders|activities|info_posts)_(\d{4}-\d{2}-\d{2})\.jsonl\.gz$"),
}
PM_TIME = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")
VS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _phone_key(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def _pm_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
    reader = csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""), delimiter=";")
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def _vs_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _sha_tree(home: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for path in sorted((home / "landing").rglob("*")):
        if path.is_file():
            out[str(path.relative_to(home))] = (hashlib.sha256(path.read_bytes()).hexdigest(), int(path.stat().st_mtime))
    for name in ("truth.json", "planted_divergences.json"):
        out[f"generated/{name}"] = (hashlib.sha256((home / "generated" / name).read_bytes()).hexdigest(), 0)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, GenerateSummary, dict]:
    home = tmp_path_factory.mktemp("gen_a")
    summary = generate(home=home, **ARGS)
    truth = json.loads((home / "generated" / "truth.json").read_text(encoding="utf-8"))
    return home, summary, truth


@pytest.fixture(scope="module")
def reform_run(tmp_path_factory) -> tuple[Path, GenerateSummary, dict]:
    home = tmp_path_factory.mktemp("gen_reform")
    summary = generate(["93"], ["2025-W26", "2025-W28"], seed=3, home=home, orders_per_unit_week=4)
    truth = json.loads((home / "generated" / "truth.json").read_text(encoding="utf-8"))
    return home, summary, truth


# ------------------------------------------------------------------------------------------------

def test_reproducible_byte_for_byte(run, tmp_path):
    home, summary, _ = run
    again = generate(home=tmp_path / "b", **ARGS)
    first, second = _sha_tree(home), _sha_tree(tmp_path / "b")
    assert len(first) > 100
    assert first == second                     # same names, same SHA-256, same mtimes
    assert summary.rows_by_entity == again.rows_by_entity
    other = generate(home=tmp_path / "c", **{**ARGS, "seed": 8})
    assert _sha_tree(tmp_path / "c") != first  # the seed matters
    assert other.files_by_source.keys() == summary.files_by_source.keys()


def test_summary_and_file_names(run):
    home, summary, _ = run
    assert set(summary.files_by_source) == {"weekly_form", "household_register", "postmart", "voso"}
    assert len(summary.paths) == sum(summary.files_by_source.values())
    for path in summary.paths:
        source = path.parent.name
        assert path.parent.parent == home / "landing"
        assert NAME_PATTERNS[source].match(path.name), path.name
    # one file per entity and day on each platform
    days = 7 * len(WEEKS)
    assert summary.files_by_source["postmart"] == 5 * days
    assert summary.files_by_source["voso"] == 5 * days
    for key in ("postmart_don_hang", "voso_orders", "postmart_gian_hang", "voso_shops", "household_register"):
        assert summary.rows_by_entity[key] > 0


def test_postmart_csv_format(run):
    home, _, _ = run
    seen = set()
    for path in sorted((home / "landing" / "postmart").iterdir()):
        entity = NAME_PATTERNS["postmart"].match(path.name)[1]
        header, rows = _pm_rows(path)
        assert header == PM_HEADERS[entity], path.name
        seen.add(entity)
        for row in rows:
            for col in ("Ngày tạo", "Ngày đăng", "Thời gian đặt", "Thời gian cập nhật", "Thời gian", "Thời gian đăng"):
                if col in row:
                    assert PM_TIME.match(row[col]), (path.name, col, row[col])
            for col in ("Ví VNPostPay", "Truy xuất nguồn gốc", "Gắn nhãn thương hiệu", "Ưu đãi cho hộ SXNN"):
                if col in row:
                    assert row[col] in ("Có", "Không")
            if entity == "don_hang":
                assert row["Trạng thái"] in ("Thành công", "Hủy", "Hoàn")
                assert re.fullmatch(r"\d+(,\d+)?", row["Khối lượng (kg)"]), row["Khối lượng (kg)"]
                assert row["Mã đơn hàng"].startswith("PM")
                # the file holds the rows changed that day
                assert row["Thời gian cập nhật"][:10] == f"{path.stem[-2:]}/{path.stem[-4:-2]}/{path.stem[-8:-4]}"
            if entity == "san_pham":
                assert row["Nhóm sản phẩm"] in ("Nông sản", "Đầu vào")
                assert row["Số sao OCOP"] in {"0", "1", "2", "3", "4", "5"}
            if entity == "hoat_dong":
                assert row["Loại hoạt động"] in ("Đăng SP", "Tìm kiếm", "Nhắn tin", "Giao dịch")
    assert seen == set(PM_HEADERS)


def test_voso_jsonl_format(run):
    home, _, _ = run
    statuses = set()
    for path in sorted((home / "landing" / "voso").iterdir()):
        raw = path.read_bytes()
        assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
        entity = NAME_PATTERNS["voso"].match(path.name)[1]
        for row in _vs_rows(path):
            assert list(row) == VS_FIELDS[entity], path.name
            for key, value in row.items():
                if key.endswith("_at"):
                    assert VS_TIME.match(value), (key, value)
            if entity == "orders":
                assert isinstance(row["weight_g"], int) and isinstance(row["amount_vnd"], int)
                assert row["status"] in ("delivered", "cancelled", "returned")
                statuses.add(row["status"])
                assert row["order_id"].startswith("VS")
            if entity == "shops":
                assert isinstance(row["has_ewallet"], bool) and row["status"] in ("active", "suspended")
            if entity == "products":
                assert row["product_group"] in ("agricultural", "input")
                assert all(isinstance(row[k], bool) for k in ("traceable", "brand_marked", "household_discount"))
                assert isinstance(row["ocop_stars"], int)
            if entity == "activities":
                assert row["activity_type"] in ("post_product", "search", "message", "transaction")
    assert {"delivered", "cancelled", "returned"} <= statuses


def _form_header(sheet) -> dict[str, object]:
    rows = [r for r in sheet.iter_rows(min_row=1, max_row=15, values_only=True)]
    info = {}
    for index, row in enumerate(rows, start=1):
        first = row[0]
        if not isinstance(first, str):
            continue
        if first.lower().replace("ma don vi", "mã đơn vị").startswith("mã đơn vị"):
            info["code"] = first.split(":", 1)[1].strip() or row[1]
            if info["code"] in ("", None):
                info["code"] = row[1]
        elif first == "BÁO CÁO TUẦN":
            info["title_row"] = index
        elif first.startswith("Tuần "):
            info["week_line"] = first
        elif first == "TT" and row[1] == "Chỉ tiêu":
            info["table_row"] = index
            info["headings"] = list(row[:8])
    return info


def test_weekly_form_layout(run):
    home, _, _ = run
    files = sorted((home / "landing" / "weekly_form").iterdir())
    indicators = reference.weekly_form_indicators()
    assert len(indicators) == 17
    for path in files[:: max(1, len(files) // 25)] + files[-3:]:
        match = NAME_PATTERNS["weekly_form"].match(path.name)
        code, week = match[1], match[2]
        wb = openpyxl.load_workbook(path)
        sheet = wb.worksheets[0]
        assert sheet.title == "Báo cáo tuần"
        info = _form_header(sheet)
        assert "title_row" in info and info["headings"] == FORM_HEADINGS
        assert str(info["code"]).zfill(len(code)) == code                    # numbers lose leading zeros
        monday, sunday = periods.week_bounds(week)
        assert info["week_line"] == (f"Tuần {int(week[-2:])}/{week[:4]} (từ ngày {monday:%d/%m/%Y} "
                                     f"đến ngày {sunday:%d/%m/%Y})")
        # table body: sections and the 17 indicator rows, up to the first empty row
        merged = {str(r) for r in sheet.merged_cells.ranges}
        found, section = [], None
        for r in range(info["table_row"] + 1, sheet.max_row + 1):
            values = [sheet.cell(r, c).value for c in range(1, 9)]
            if all(v is None for v in values):
                break
            tt = values[0]
            if tt in ("II", "III", "IV"):
                section = tt
                assert f"B{r}:H{r}" in merged
                continue
            if tt == "I":
                section = "I"
                found.append(("I", "I"))
                assert values[2]                                       # row I carries a unit
                continue
            found.append((section, str(tt)))
        assert found == [(i.section, i.tt) for i in indicators], path.name


def _cell_number(value):
    """Loose reading of a typed number (the real parser lives in landing.numbers)."""
    if value is None or value in ("-", "–"):
        return None
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip().rstrip("%")
    if "," in text:
        return float(text.replace(".", "").replace(",", "."))
    return int(text.replace(".", ""))


def _form_cumulatives(path: Path) -> dict[str, object]:
    """indicator code -> the typed cumulative cell (column F) of a weekly form."""
    sheet = openpyxl.load_workbook(path).worksheets[0]
    section, out = None, {}
    for row in sheet.iter_rows(values_only=True):
        if row[0] in ("I", "II", "III", "IV"):
            section = row[0]
        if section is None or row[0] in ("II", "III", "IV") or row[0] is None:
            continue
        spec = next(i for i in reference.weekly_form_indicators() if i.section == section and i.tt == str(row[0]))
        out[spec.code] = row[5]
    return out


def _threshold_pct() -> float:
    """The reconciliation tolerance, read from the dbt project (not from the generator)."""
    import yaml

    from lensan import settings

    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return float(project["vars"]["reconciliation_threshold_pct"])


def _planted(home: Path) -> dict[tuple[str, str], dict]:
    data = json.loads((home / "generated" / "planted_divergences.json").read_text(encoding="utf-8"))
    return {(p["unit_code"], p["week"]): p for p in data["planted"]}


def test_weekly_form_values_close_to_truth(run):
    home, _, truth = run
    planted = _planted(home)
    exact = total = 0
    typed_text = not_reported = 0
    for path in sorted((home / "landing" / "weekly_form").iterdir()):
        match = NAME_PATTERNS["weekly_form"].match(path.name)
        t = truth["units"][f"post2025:{match[1]}"]["weeks"][match[2]]["indicators"]
        sheet = openpyxl.load_workbook(path).worksheets[0]
        section = None
        for row in sheet.iter_rows(values_only=True):
            if row[0] in ("I", "II", "III", "IV"):
                section = row[0]
            if section is None or row[0] in ("II", "III", "IV") or row[0] is None:
                continue
            spec = next(i for i in reference.weekly_form_indicators()
                        if i.section == section and i.tt == str(row[0]))
            if isinstance(row[5], str):
                typed_text += 1
            value = _cell_number(row[5])
            if value is None:
                not_reported += 1
                continue
            expected = t["volume_sold_t_ytd"] if spec.code == "volume_sold_t" else t[spec.code]
            plant = planted.get((match[1], match[2]))
            if plant and plant["indicator"] == spec.code:
                continue   # divergent on purpose: test_planted_divergences_are_recorded_and_typed
            total += 1
            exact += abs(value - expected) < 1e-3
            # inside dbt's reconciliation tolerance (fct_reconciliation): never a warning of its own
            if expected == 0:
                assert value == 0, (path.name, spec.code, value)
            else:
                assert 100 * abs(value - expected) / expected <= _threshold_pct(), (path.name, spec.code, value,
                                                                                    expected)
    assert total > 500
    assert 0.75 < exact / total < 1.0        # close to the truth, but not always equal
    assert typed_text > 0 and not_reported > 0


def test_planted_divergences_are_recorded_and_typed(run):
    """A few units diverge on purpose in the last week, recorded beside truth.json (never in landing/):
    one reports foreign markets the platforms never saw, others differ far beyond the tolerance."""
    home, summary, truth = run
    path = home / "generated" / "planted_divergences.json"
    assert path.exists() and not any(p.name == path.name for p in summary.paths)
    planted = list(_planted(home).values())
    assert 3 <= len(planted) <= 5
    assert len({p["unit_code"] for p in planted}) == len(planted)
    assert {p["week"] for p in planted} == {WEEKS[-1]}
    kinds = {p["kind"] for p in planted}
    assert "none_on_platforms" in kinds and "large" in kinds
    for p in planted:
        t = truth["units"][f"post2025:{p['unit_code']}"]["weeks"][WEEKS[-1]]["indicators"]
        computed = t["volume_sold_t_ytd"] if p["indicator"] == "volume_sold_t" else t[p["indicator"]]
        assert p["computed"] == pytest.approx(computed)
        if p["kind"] == "none_on_platforms":
            assert computed == 0 and p["reported"] > 0
        else:
            assert 100 * abs(p["reported"] - computed) / computed > _threshold_pct()
        # every form file of the unit's week (a resend too) carries the planted value
        files = truth["forms"][f"post2025:{p['unit_code']}:{WEEKS[-1]}"]["files"]
        assert files
        for f in files:
            typed = _cell_number(_form_cumulatives(home / "landing" / "weekly_form" / f["name"])[p["indicator"]])
            assert typed == pytest.approx(p["reported"]), (f["name"], p)


def test_sample_seeds_are_the_derivation_of_the_population():
    """The sample rows of ref_bases.csv / ref_targets.csv are `python -m lensan_dev.generate.bases`'s
    output (they cannot drift from the generator), and a unit's base is the size of its simulated
    population; real rows stay as committed."""
    from lensan import settings
    from lensan_dev.generate import bases
    from lensan_dev.generate.population import build_unit

    derived = bases.derive()
    for name, text in derived.items():
        assert (settings.SEEDS_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `python -m lensan_dev.generate.bases`")
    rows = list(csv.DictReader(io.StringIO(derived[bases.BASES_FILE])))
    unit_base = {r["unit_code"]: int(r["base_value"]) for r in rows
                 if r["map_version"] == "post2025" and r["unit_level"] == "commune" and r["base_year"] == "2026"}
    units = reference.reporting_units("post2025", ["22"])
    for ref_unit in units[:3]:
        for seed in (bases.SEED, 7):      # the unit's size, whatever the seed: its base always holds it
            assert unit_base[ref_unit.code] == len(build_unit(seed, ref_unit, WEEKS, 8).households)
    province = next(int(r["base_value"]) for r in rows if r["map_version"] == "post2025" and r["unit_code"] == "22"
                    and r["base_year"] == "2026" and r["base_code"] == "agri_households")
    assert province == sum(unit_base[u.code] for u in units)
    targets = list(csv.DictReader(io.StringIO(derived[bases.TARGETS_FILE])))
    sample = [r for r in targets if r["is_sample"] == "true" and r["scope_level"] == "province"]
    assert sample and all(r["source_document"].startswith("mẫu (sample)") for r in sample)
    assert all(0 < float(r["target_value"]) <= 100 for r in sample if r["target_type"] == "pct_of_base")


def test_household_on_both_platforms(run):
    home, _, truth = run
    pm = {}
    for path in (home / "landing" / "postmart").glob("postmart_gian_hang_*.csv"):
        for row in _pm_rows(path)[1]:
            pm[_phone_key(row["SĐT chủ gian hàng"])] = row["Mã hộ SXNN"]
    both = set()
    for path in (home / "landing" / "voso").glob("voso_shops_*.jsonl.gz"):
        for row in _vs_rows(path):
            key = _phone_key(row["owner_phone"])
            if key in pm and pm[key]:
                assert pm[key] == row["household_code"]
                both.add(row["household_code"])
    assert both, "no household sells on both platforms"
    truth_both = {h for u in truth["units"].values() for h in u["weeks"][WEEKS[-1]]["households_on_both_platforms"]}
    assert truth_both and truth_both <= both


def test_returned_order_late_status_change(run):
    home, _, _ = run
    history = defaultdict(list)
    for path in sorted((home / "landing" / "voso").glob("voso_orders_*.jsonl.gz")):
        day = NAME_PATTERNS["voso"].match(path.name)[2]
        for row in _vs_rows(path):
            history[row["order_id"]].append((day, row["status"], row["updated_at"]))
    changed = [oid for oid, rows in history.items()
               if len(rows) == 2 and rows[0][1] == "delivered" and rows[1][1] == "returned"
               and rows[0][0] < rows[1][0] and rows[0][2] < rows[1][2]]
    assert changed
    # every other order appears once
    assert all(len(rows) == 1 for oid, rows in history.items() if oid not in changed)


def test_unit_and_commune_codes_valid_for_the_map(run):
    home, _, truth = run
    units = {u.code for u in reference.reporting_units("post2025", ["22"])}
    assert {k.split(":")[1] for k in truth["units"]} == units
    for path in (home / "landing" / "weekly_form").iterdir():
        assert NAME_PATTERNS["weekly_form"].match(path.name)[1] in units
    for path in (home / "landing" / "postmart").glob("postmart_gian_hang_*.csv"):
        for row in _pm_rows(path)[1]:
            assert reference.commune("post2025", row["Mã xã"]).province_code == "22"
    provinces = {code for mv, code in reference.provinces() if mv == "post2025"}
    countries = set()
    for path in (home / "landing" / "postmart").glob("postmart_don_hang_*.csv"):
        for row in _pm_rows(path)[1]:
            if row["Quốc gia người mua"] == "VN":
                assert row["Mã tỉnh người mua"] in provinces
            else:
                countries.add(row["Quốc gia người mua"])
                assert row["Mã tỉnh người mua"] == ""
    register = next((home / "landing" / "household_register").glob("*.csv"))
    text = register.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == REGISTER_HEADINGS
    code = NAME_PATTERNS["household_register"].match(register.name)[1]
    for row in rows[1:]:
        assert re.fullmatch(rf"HH{code}-\d{{5}}", row[0]) and re.fullmatch(r"\d{12}", row[3])
        assert row[4] == code and row[5] in ("Hộ SXNN", "Hộ kinh doanh", "HTX", "Tổ hợp tác")
        assert row[9] in ("", "Cơ bản", "Nâng cao")


def test_delivery_times(run):
    home, _, truth = run
    # platform extracts: the next day 02:00 local
    for path in (home / "landing" / "voso").iterdir():
        day = dt.date.fromisoformat(NAME_PATTERNS["voso"].match(path.name)[2])
        assert dt.datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ) == \
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2, 0), tzinfo=LOCAL_TZ)
    # weekly forms: before Thursday 14:00 unless the unit is late; missing units send nothing
    late_seen = missing_seen = 0
    for key, form in truth["forms"].items():
        unit, week = form["unit"].split(":")[1], form["week"]
        first = home / "landing" / "weekly_form" / f"bao_cao_tuan_{unit}_{week}.xlsx"
        if form["missing"]:
            missing_seen += 1
            assert week == WEEKS[-1] and not first.exists()
            continue
        arrived = dt.datetime.fromtimestamp(first.stat().st_mtime, LOCAL_TZ)
        deadline = periods.weekly_deadline(week)
        assert arrived.date() > periods.week_bounds(week)[1]
        if form["late"]:
            late_seen += 1
            assert arrived > deadline
        else:
            assert arrived < deadline
        resend = first.with_name(first.stem + "_2.xlsx")
        if resend.exists():
            assert resend.stat().st_mtime > first.stat().st_mtime
    assert late_seen == ARGS["late_units"] * len(WEEKS)
    assert missing_seen == ARGS["missing_units"]
    # registers: the Monday after the last week
    for path in (home / "landing" / "household_register").iterdir():
        arrived = dt.datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ)
        assert arrived.date() == periods.week_bounds(WEEKS[-1])[1] + dt.timedelta(days=1)


def test_reform_weeks_use_the_map_of_their_week(reform_run):
    home, summary, truth = reform_run
    pre_units = {u.code for u in reference.reporting_units("pre2025", ["93"])}
    post_units = {u.code for u in reference.reporting_units("post2025", ["92"])}
    assert truth["provinces"] == {"pre2025": ["93"], "post2025": ["92"]}
    forms = defaultdict(set)
    for path in (home / "landing" / "weekly_form").iterdir():
        match = NAME_PATTERNS["weekly_form"].match(path.name)
        forms[match[2]].add(match[1])
    assert forms["2025-W26"] == pre_units
    assert forms["2025-W28"] == post_units
    # platform commune codes: pre-reform communes of Hậu Giang in June, Cần Thơ wards in July
    for path in (home / "landing" / "postmart").glob("postmart_gian_hang_*.csv"):
        day = dt.datetime.strptime(path.stem[-8:], "%Y%m%d").date()
        for row in _pm_rows(path)[1]:
            if day < reference.REFORM_DATE:
                unit = reference.commune("pre2025", row["Mã xã"])
                assert unit is not None and unit.province_code == "93" and unit.district_code in pre_units
            else:
                assert row["Mã xã"] in post_units
    registers = {NAME_PATTERNS["household_register"].match(p.name).group(1, 2)
                 for p in (home / "landing" / "household_register").iterdir()}
    assert {c for c, d in registers if d == "20250629"} == pre_units
    assert {c for c, d in registers if d == "20250713"} == post_units


def test_province_codes_cross_the_reform():
    assert provinces_for_map("post2025", ["22", "93"], "pre2025") == ["22", "92"]
    assert provinces_for_map("pre2025", ["22", "93"], "pre2025") == ["22", "93"]
    assert provinces_for_map("post2025", ["22", "92"], "post2025") == ["22", "92"]
    assert set(provinces_for_map("pre2025", ["96"], "pre2025")) == {"96"}
    assert len(provinces_for_map("post2025", None, "pre2025")) == 34
    with pytest.raises(ValueError):
        provinces_for_map("post2025", ["93"], "post2025")


def test_truth_matches_the_files(run):
    """truth.json describes the landed files: households with a shop (deduped across platforms)
    and orders per unit and platform recomputed here from the raw files alone."""
    home, _, truth = run
    types = {}
    for path in (home / "landing" / "household_register").iterdir():
        if path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))[1:]
        else:
            rows = [[str(v or "") for v in r] for r in
                    openpyxl.load_workbook(path).worksheets[0].iter_rows(min_row=2, values_only=True)]
        types.update({r[0]: r[5] for r in rows})
    last_sunday = periods.week_bounds(WEEKS[-1])[1]
    shop_unit, households = {}, defaultdict(set)
    for path in (home / "landing" / "postmart").glob("postmart_gian_hang_*.csv"):
        for row in _pm_rows(path)[1]:
            shop_unit[row["Mã gian hàng"]] = row["Mã xã"]
            if row["Mã hộ SXNN"] and types[row["Mã hộ SXNN"]] == "Hộ SXNN":
                households[row["Mã xã"]].add(row["Mã hộ SXNN"])
    for path in (home / "landing" / "voso").glob("voso_shops_*.jsonl.gz"):
        for row in _vs_rows(path):
            shop_unit[row["shop_id"]] = row["ward_code"]
            if row["household_code"] and types[row["household_code"]] == "Hộ SXNN":
                households[row["ward_code"]].add(row["household_code"])
    orders = defaultdict(set)
    for path in (home / "landing" / "postmart").glob("postmart_don_hang_*.csv"):
        for row in _pm_rows(path)[1]:
            day = dt.datetime.strptime(row["Thời gian đặt"], "%d/%m/%Y %H:%M:%S").date()
            orders[(shop_unit[row["Mã gian hàng bán"]], periods.week_key(day), "postmart")].add(row["Mã đơn hàng"])
    for path in (home / "landing" / "voso").glob("voso_orders_*.jsonl.gz"):
        for row in _vs_rows(path):
            local = dt.datetime.fromisoformat(row["ordered_at"].replace("Z", "+00:00")).astimezone(LOCAL_TZ)
            orders[(shop_unit[row["shop_id"]], periods.week_key(local.date()), "voso")].add(row["order_id"])
    checked = 0
    for key, unit in truth["units"].items():
        code = unit["unit_code"]
        assert unit["weeks"][WEEKS[-1]]["indicators"]["hh_with_shop"] == len(households[code]), code
        assert unit["weeks"][WEEKS[-1]]["indicators"]["hh_with_shop"] >= 1
        for week in WEEKS:
            for platform in ("postmart", "voso"):
                assert unit["weeks"][week]["orders_in_week"][platform] == len(orders[(code, week, platform)])
                checked += 1
    assert checked and last_sunday


# ------------------------------------------------------------------------------------------------
# National scale mode (lensan_dev.generate.scale)

NATIONAL_WEEK = "2026-W46"


@pytest.fixture(scope="module")
def national_run(tmp_path_factory):
    from lensan_dev.generate.scale import generate_national

    home = tmp_path_factory.mktemp("gen_national")
    reports = []
    summary = generate_national(0.05, NATIONAL_WEEK, seed=11, home=home, provinces=["22", "96"],
                                progress=reports.append, progress_every_s=0.0)
    return home, summary, reports


def test_national_forms_and_registers_for_every_unit(national_run):
    home, summary, _ = national_run
    units = {u.code for u in reference.reporting_units("post2025", ["22", "96"])}
    assert len(units) > 50
    forms = [p for p in summary.paths if p.parent.name == "weekly_form"]
    form_units = {NAME_PATTERNS["weekly_form"].match(p.name)[1] for p in forms}
    assert form_units == units
    assert all(NAME_PATTERNS["weekly_form"].match(p.name)[2] == NATIONAL_WEEK for p in forms)
    registers = [p for p in summary.paths if p.parent.name == "household_register"]
    assert {NAME_PATTERNS["household_register"].match(p.name)[1] for p in registers} == units
    assert summary.files_by_source["postmart"] == 35 and summary.files_by_source["voso"] == 35
    for path in summary.paths:
        assert NAME_PATTERNS[path.parent.name].match(path.name), path.name


def test_national_files_pass_the_landing_checks(national_run):
    from lensan.landing import check_file

    home, summary, _ = national_run
    bad = [(p.name, r.code, r.message_en) for p in summary.paths if not (r := check_file(p)).ok]
    assert bad == []
    # byte-level formats of the streamed extracts, headings typed from docs/raw_formats.md
    seen = defaultdict(int)
    for path in (home / "landing" / "postmart").iterdir():
        header, rows = _pm_rows(path)
        entity = NAME_PATTERNS["postmart"].match(path.name)[1]
        assert header == PM_HEADERS[entity]
        seen[entity] += len(rows)
        for row in rows[:50]:
            for key, value in row.items():
                if key in ("Ngày tạo", "Ngày đăng", "Thời gian đặt", "Thời gian", "Thời gian đăng"):
                    assert PM_TIME.match(value), (path.name, key, value)
    for path in (home / "landing" / "voso").iterdir():
        entity = NAME_PATTERNS["voso"].match(path.name)[1]
        rows = _vs_rows(path)
        seen[entity] += len(rows)
        assert all(list(r) == VS_FIELDS[entity] for r in rows)
        assert all(VS_TIME.match(r.get("ordered_at") or r.get("occurred_at") or r.get("created_at")
                                 or r.get("listed_at") or r.get("posted_at")) for r in rows[:50])
    for entity in ("don_hang", "orders", "gian_hang", "shops", "san_pham", "products", "hoat_dong", "activities"):
        assert seen[entity] > 0, entity


def test_national_order_volume_and_progress(national_run):
    home, summary, reports = national_run
    units = len(reference.reporting_units("post2025", ["22", "96"]))
    target = 0.05 * 1_000_000 * units / 3321
    orders = summary.rows_by_entity["postmart_don_hang"] + summary.rows_by_entity["voso_orders"]
    assert 0.9 * target <= orders <= 1.2 * target          # returned orders are repeated rows
    activities = summary.rows_by_entity["postmart_hoat_dong"] + summary.rows_by_entity["voso_activities"]
    assert 1.5 * orders <= activities <= 3.5 * orders
    last = reports[-1]
    assert last.units_done == last.units_total == units
    assert last.rows > 0 and last.mb_per_s > 0 and last.eta_s == 0 and last.peak_rss_mb > 0
    assert "MB/s" in str(last) and "ETA" in str(last)
    info = json.loads((home / "generated" / "national_summary.json").read_text(encoding="utf-8"))
    assert info["units"] == units and info["rows_by_entity"] == summary.rows_by_entity


def test_national_reproducible(national_run, tmp_path):
    from lensan_dev.generate.scale import generate_national

    home, _, _ = national_run
    generate_national(0.05, NATIONAL_WEEK, seed=11, home=tmp_path, provinces=["22", "96"])
    tree = lambda h: {str(p.relative_to(h)): (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
                      for p in sorted((h / "landing").rglob("*")) if p.is_file()}
    assert tree(home) == tree(tmp_path)


def test_national_refuses_pre_reform_weeks(tmp_path):
    from lensan_dev.generate.scale import generate_national

    with pytest.raises(ValueError):
        generate_national(0.01, "2025-W20", home=tmp_path)
    with pytest.raises(ValueError):
        generate_national(0, NATIONAL_WEEK, home=tmp_path)
