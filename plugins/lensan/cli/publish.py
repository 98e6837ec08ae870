"""`lensan publish`: the quality gate, then the weekly report of one week."""

from __future__ import annotations

import argparse
import json

from lensan import settings

from lensan.calendar import periods
from lensan.cli.args import local_now
from lensan.cli.output import fail, say
from lensan.orchestration.ops import to_jsonable


def add_parser(sub) -> None:
    p = sub.add_parser("publish", help="kiểm tra + công bố một tuần / gate and publish one week")
    p.add_argument("--week", help="e.g. 2026-W47 (default: the latest complete week)")
    p.add_argument("--skip-gate", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_publish)


def cmd_publish(args) -> int:
    from lensan import landing
    from lensan.quality import checkpoints, policy
    from lensan.publish import service as publish

    week = args.week or periods.last_complete_week(local_now())
    periods.week_bounds(week)
    landing.ensure_raw_schema()
    gate_summary = None
    if not args.skip_gate:
        decision = policy.evaluate(lambda: checkpoints.run_checkpoint("marts", {"week_key": week}))
        if not isinstance(decision, policy.Proceed):  # a manual publication stops on any error, blocked scopes too
            return fail(f"Dừng công bố tuần {week}: cổng chất lượng không đạt: {decision.message}",
                        f"Publication of {week} stopped: quality gate failed: {decision.message}")
        gate_summary = decision.summary
    summary = publish.publish_weekly(week, gate_summary=gate_summary)
    print(json.dumps(to_jsonable(summary), ensure_ascii=False, indent=2, default=str)[:8000])
    say(f"Đã công bố báo cáo tuần {week} vào {settings.home_dir('exports')}",
        f"Published the weekly report {week} into {settings.home_dir('exports')}")
    return 0
