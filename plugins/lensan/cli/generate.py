"""`lensan generate`: sample files into landing/ (lensan_dev.generate), or a national week (--scale)."""

from __future__ import annotations

import json

from lensan import settings

from lensan.cli.args import parse_provinces, parse_weeks
from lensan.cli.output import say
from lensan.orchestration.ops import to_jsonable


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="tạo file mẫu vào landing/ / write sample files into landing/")
    p.add_argument("--provinces", action="append", help="e.g. 22,92 (default)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--weeks", help="2026-W44..2026-W47 or 2026-W47 or a,b,c")
    group.add_argument("--last", type=int, help="the last N complete weeks (default 4)")
    p.add_argument("--seed", type=int, default=1034)
    p.add_argument("--late", type=int, help="số đơn vị nộp muộn mỗi tuần / units per week delivering their form late")
    p.add_argument("--missing", type=int, help="số đơn vị không nộp tuần cuối / units sending no form for the last week")
    p.add_argument("--scale", type=float,
                   help="tuần toàn quốc, ~N triệu đơn hàng (bản đồ sau sáp nhập) / a national week of ~N million "
                        "orders (post-reform map; --provinces restricts it)")
    p.set_defaults(func=cmd_generate)


def generate_sample(provinces: list[str], weeks: list[str], seed: int, late: int | None = None,
                    missing: int | None = None):
    """lensan_dev.generate.generate() into LENSAN_HOME, its progress printed (also used by `lensan demo`)."""
    from lensan_dev import generate as gen

    return gen.generate(provinces, weeks, seed=seed, late_units=late or 0, missing_units=missing or 0,
                        progress=lambda message: print(f"  {message}", flush=True))


def report_planted(week: str) -> bool:
    """Print the quality warnings the generator planted for `week` against those the marts raised
    (reconciliation, where the published report's 'Chênh lệch' warnings come from), per unit; True
    when the two sets are the same (also used by `lensan demo`)."""
    from lensan_dev.generate import planted

    plants = [p for p in planted.load() if p["week"] == week]
    raised = planted.raised_divergences(week)
    result = planted.compare(plants, raised, week)
    say(f"Cảnh báo chất lượng tuần {week}: đã cài {result['planted']}, kiểm tra phát hiện {result['raised']} — "
        + ("khớp" if result["match"] else "KHÔNG khớp"),
        f"Quality warnings of {week}: {result['planted']} planted, {result['raised']} raised — "
        + ("they match" if result["match"] else "they DO NOT match"))
    raised_keys = {(r["unit_code"], r["indicator"]) for r in raised}
    planted_keys = {(p["unit_code"], p["indicator"]) for p in plants}
    rows = [(p["unit_code"], p["unit_name"], p["indicator"], p["reported"], p["computed"]) for p in plants]
    rows += [(r["unit_code"], r["unit_name"], r["indicator"], r["reported"], r["computed"]) for r in raised
             if (r["unit_code"], r["indicator"]) not in planted_keys]
    for code, name, indicator, reported, computed in sorted(rows):
        key = (code, indicator)
        status = ("cài + phát hiện / planted + raised" if key in planted_keys and key in raised_keys
                  else "chỉ cài / planted only" if key in planted_keys else "chỉ phát hiện / raised only")
        print(f"  {code} {name}: {indicator} báo cáo/reported {reported:g}, dữ liệu sàn/platforms "
              f"{(computed or 0):g} — {status}", flush=True)
    return result["match"]


def _generate_national(args) -> int:
    from lensan_dev.generate.scale import generate_national

    weeks = parse_weeks(args.weeks, args.last or 1)
    provinces = parse_provinces(args.provinces) if args.provinces else None
    for week in weeks:
        summary = generate_national(args.scale, week, seed=args.seed, provinces=provinces,
                                    progress=lambda p: print(f"  {p}", flush=True))
        say(f"Đã tạo tuần {week} toàn quốc (hệ số {args.scale:g}): {sum(summary.rows_by_entity.values()):,} dòng "
            f"vào {settings.landing_dir()}",
            f"Generated the national week {week} (scale {args.scale:g}): "
            f"{sum(summary.rows_by_entity.values()):,} rows into {settings.landing_dir()}")
    return 0


def cmd_generate(args) -> int:
    if args.scale is not None:
        return _generate_national(args)
    provinces = parse_provinces(args.provinces)
    weeks = parse_weeks(args.weeks, args.last)
    summary = generate_sample(provinces, weeks, args.seed, args.late, args.missing)
    say(f"Đã tạo dữ liệu mẫu cho tỉnh {', '.join(provinces)}, tuần {weeks[0]}..{weeks[-1]} "
        f"vào {settings.landing_dir()}",
        f"Generated sample data for provinces {', '.join(provinces)}, weeks {weeks[0]}..{weeks[-1]} "
        f"into {settings.landing_dir()}")
    if summary is not None:
        data = to_jsonable(summary)
        data.pop("paths", None)
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0
