"""`lensan demo`: sample data for two provinces, then the three DAGs for real; lists the reports."""

from __future__ import annotations

from lensan import settings

from lensan.cli.args import DEMO_WEEKS, latest_complete_weeks, local_now, parse_provinces
from lensan.cli.generate import generate_sample, report_planted
from lensan.cli.output import fail, say
from lensan.cli.run import prepare_runtime, run_pipeline


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="dữ liệu mẫu + chạy 3 DAG / sample data + run the three DAGs")
    p.add_argument("--provinces", action="append", help="mã tỉnh / province codes (default 22,92)")
    p.add_argument("--weeks", type=int, default=DEMO_WEEKS, help="số tuần hoàn chỉnh gần nhất / latest complete weeks")
    p.add_argument("--seed", type=int, default=1034)
    p.add_argument("-v", "--verbose", action="store_true", help="hiện log Airflow / show Airflow output")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    now = local_now()
    provinces = parse_provinces(args.provinces)
    weeks = latest_complete_weeks(args.weeks, now)
    say(f"lensan demo — LENSAN_HOME={settings.lensan_home()}", f"lensan demo — LENSAN_HOME={settings.lensan_home()}")
    say(f"1/4 Tạo dữ liệu mẫu: tỉnh {', '.join(provinces)}, tuần {weeks[0]}..{weeks[-1]}",
        f"1/4 Generating sample data: provinces {', '.join(provinces)}, weeks {weeks[0]}..{weeks[-1]}")
    generate_sample(provinces, weeks, args.seed)
    say("2/4 Khởi động kho dữ liệu, dbt manifest, Airflow (SQLite)",
        "2/4 Starting the warehouse, dbt manifest, Airflow (SQLite metadata)")
    prepare_runtime()
    portal_upload = _upload_through_portal(provinces[0], weeks[-1])
    say("3/4 Chạy 3 DAG thật bằng `airflow dags test`", "3/4 Running the three DAGs with `airflow dags test`")
    try:
        run_pipeline(weeks[-1], echo=args.verbose, start=now)
    except RuntimeError as exc:
        return fail(f"Demo dừng: {exc}", f"Demo stopped: {exc}")
    say(f"4/4 Báo cáo tuần {weeks[-1]}:", f"4/4 Weekly report {weeks[-1]}:")
    exports = settings.home_dir("exports")
    week_dir = exports / "week" / weeks[-1]
    for scope in [*(f"province-{p}" for p in provinces), "nation-VN"]:
        revisions = sorted(week_dir.glob(f"{scope}/rev-*"), key=lambda p: int(p.name.split("-")[-1]))
        if not revisions:
            say(f"  {scope}: chưa có báo cáo", f"  {scope}: no report")
            continue
        for path in sorted(revisions[-1].iterdir()):
            print(f"  {path}")
    others = len([p for p in week_dir.iterdir() if p.is_dir()]) - len(provinces) - 1 if week_dir.exists() else 0
    if (week_dir / "index.json").exists():
        say(f"  Mục lục (cả {others} phạm vi khác: vùng, tỉnh): {week_dir / 'index.json'}",
            f"  Index (also {others} other scopes: regions, provinces): {week_dir / 'index.json'}")
    say(f"Tất cả báo cáo: {exports}\nTrạng thái: `lensan status`",
        f"All reports: {exports}\nStatus: `lensan status`")
    _print_portal(portal_upload)
    # the generator made a few units diverge on purpose: the gate must raise exactly those warnings
    if not report_planted(weeks[-1]):
        return fail("cảnh báo chất lượng khác với những gì bộ sinh dữ liệu đã cài",
                    "the quality warnings raised differ from the ones the generator planted")
    return 0


def _upload_through_portal(province: str, week: str) -> dict | None:
    """One unit's weekly form handed in through the portal's real HTTP path before the DAGs run."""
    from lensan.portal import demo as portal_demo

    upload = portal_demo.upload_one_form(province, week)
    if upload:
        say(f"  Cổng nộp báo cáo: {upload['unit_code']} {upload['unit_name']} đã nộp biểu mẫu tuần {week} qua cổng "
            f"(SHA-256 {upload['sha256'][:16]}…)",
            f"  Portal: {upload['unit_code']} {upload['unit_name']} handed in its {week} form through the portal")
    return upload


def _print_portal(upload: dict | None) -> None:
    config = settings.load()
    url = config.portal_url or f"http://{config.portal_host}:{config.portal_port}/"
    say(f"Cổng nộp báo cáo: {url} (chạy `lensan portal serve`; http trên máy này: "
        "LENSAN_PORTAL_INSECURE_COOKIES=1)",
        f"Portal: {url} (start it with `lensan portal serve`; plain http on this machine needs "
        "LENSAN_PORTAL_INSECURE_COOKIES=1)")
    if upload:
        say(f"  Mã truy cập thử của {upload['unit_code']} {upload['unit_name']}: {upload['code']}",
            f"  Demo access code of {upload['unit_code']}: {upload['code']}")

