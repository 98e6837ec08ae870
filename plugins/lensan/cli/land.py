"""`lensan land`: land the files waiting in landing/."""

from __future__ import annotations

import json
import sys

from lensan import settings

from lensan.cli.output import fail, say
from lensan.orchestration.ops import to_jsonable


def add_parser(sub) -> None:
    p = sub.add_parser("land", help="nhận các file đang chờ / land the pending files")
    p.add_argument("sources", nargs="*", help=f"only these sources ({', '.join(settings.SOURCES)})")
    p.set_defaults(func=cmd_land)


def cmd_land(args) -> int:
    from lensan import landing

    unknown = [s for s in args.sources if s not in settings.SOURCES]
    if unknown:
        return fail(f"Nguồn không hợp lệ: {unknown}", f"Unknown sources: {unknown} (use {settings.SOURCES})", 2)
    landing.ensure_raw_schema()
    summary = to_jsonable(landing.land_pending(args.sources or None,
                                               progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True)))
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    say("Đã nhận xong các file trong thư mục landing.", "Landing finished.")
    return 0
