"""`lensan publish`: any period (week, month, half-year, year) without Airflow, exactly as the DAGs do it.

    lensan publish [--week 2026-W47 | --month 2026-11 | --half 2026-H1 | --year 2026]
                   [--map today | as-reported] [--deliver | --no-deliver]

The same steps as lensan_publish_weekly / lensan_publish_{monthly,half_year,year_end}, through the same
functions (lensan.orchestration.publication): the marts gate of the period under lensan.quality.policy
(Blocked scopes are withheld and the rest published; Stop publishes nothing and the command fails), the
publication (lensan.publish.service.publish_period), the refresh of the as-of-deadline snapshot, and the
delivery of every NEW revision over LENSAN_DELIVERY_CHANNELS (default `outbox`) — `--no-deliver` leaves
the revisions in exports/ only. Unlike the weekly DAG it does not revise earlier weeks: it publishes the
one period it is given.

`--map as-reported` publishes a period before 1 July 2025 on the map of its time (63 provinces) into
exports/<type>/<key>/pre2025/, beside today's boundaries; it is not entered in the publication log nor
delivered unless `--deliver` is given. For a later period the map of its time is today's.
"""

from __future__ import annotations

import argparse
import json

from lensan.calendar import periods
from lensan.cli.args import local_now
from lensan.cli.output import fail, say
from lensan.orchestration.ops import to_jsonable

PERIOD_OPTIONS = (("week", "week", "e.g. 2026-W47 (default: the latest complete week)"),
                  ("month", "month", "e.g. 2026-11"), ("half", "half_year", "e.g. 2026-H1"),
                  ("year", "year", "e.g. 2026"))
MAPS = ("today", "as-reported")


def add_parser(sub) -> None:
    p = sub.add_parser("publish", help="kiểm tra + công bố một kỳ báo cáo / gate and publish one period")
    group = p.add_mutually_exclusive_group()
    for option, _, example in PERIOD_OPTIONS:
        group.add_argument(f"--{option}", metavar="KEY", help=example)
    p.add_argument("--map", choices=MAPS, default="today",
                   help="today: địa giới hiện hành / today's boundaries (default); as-reported: bản đồ của "
                        "thời kỳ đó (63 tỉnh trước 01/7/2025) / the map of its time, beside today's")
    p.add_argument("--deliver", action=argparse.BooleanOptionalAction, default=None,
                   help="gửi các bản mới / deliver the new revisions (default: yes on today's map, as the DAGs)")
    p.add_argument("--skip-gate", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_publish)


def resolve_period(args) -> tuple[str, str]:
    """(period_type, key) from --week / --month / --half / --year; ValueError on a malformed key."""
    for option, period_type, _ in PERIOD_OPTIONS:
        key = getattr(args, option, None)
        if key:
            periods.period_bounds(period_type, key)
            return period_type, key
    return "week", periods.last_complete_week(local_now())


def map_version_of(period_type: str, key: str, choice: str) -> str:
    """The map a publication is drawn on: today's, or (as-reported) the one in force when the period ended."""
    from lensan.publish.template import MAP_VERSION
    from lensan.reference import map_version_for

    if choice == "as-reported":
        return map_version_for(periods.period_bounds(period_type, key)[1])
    return MAP_VERSION


def cmd_publish(args) -> int:
    from lensan import landing
    from lensan.delivery import service as delivery
    from lensan.orchestration import publication
    from lensan.publish import service as publish
    from lensan.publish.template import MAP_VERSION, PERIOD_TYPE_VI
    from lensan.quality import policy

    try:
        period_type, key = resolve_period(args)
    except ValueError as exc:
        return fail(f"Kỳ báo cáo không hợp lệ: {exc}", f"invalid period: {exc}", code=2)
    noun = PERIOD_TYPE_VI[period_type]
    map_version = map_version_of(period_type, key, args.map)
    landing.ensure_raw_schema()
    gate_summary = None
    if not args.skip_gate:
        decision = publication.decide(period_type, key)
        if isinstance(decision, policy.Stop):
            if decision.no_data:
                return fail(f"Không có dữ liệu để công bố {noun} {key}:\n{decision.message}",
                            f"nothing to publish for {period_type} {key}")
            return fail(f"Dừng công bố {noun} {key}: cổng chất lượng không đạt:\n{decision.message}",
                        f"publication of {period_type} {key} stopped: quality gate failed")
        if isinstance(decision, policy.Blocked):   # as the DAGs: withhold these scopes, publish the rest
            say(f"Chặn công bố các phạm vi {', '.join(sorted(decision.scopes))}:\n{decision.message}",
                f"blocking scopes {', '.join(sorted(decision.scopes))}; the others are published")
        gate_summary = decision.summary
    try:
        summary = publish.publish_period(period_type, key, gate_summary=gate_summary, map_version=map_version)
    except publish.NothingToPublish as exc:
        return fail(f"Không có dữ liệu để công bố {noun} {key}: {exc}", f"nothing to publish: {exc}")
    data = to_jsonable(summary)
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str)[:8000])
    if map_version == MAP_VERSION:   # the publication log changed: the as-of-deadline mart follows it
        publication.refresh_asof_snapshot()
    if args.deliver if args.deliver is not None else map_version == MAP_VERSION:
        try:
            delivered = publication.deliver(data)
        except delivery.DeliveryError as exc:
            return fail(f"Đã công bố nhưng gửi không thành công: {exc}", f"published, but delivery failed: {exc}")
        say(f"Đã gửi {len(delivered)} lần gửi", f"{len(delivered)} delivery attempt(s)")
    say(f"Đã công bố báo cáo {noun} {key} ({map_version}) vào {summary.export_dir}",
        f"Published the {period_type} report {key} ({map_version}) into {summary.export_dir}")
    return 0
