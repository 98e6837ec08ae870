"""`lensan land`: land the files waiting in landing/, then print the batch summary for people (or, with
--json, for scripts). Files that could not be landed for a reason outside them (e.g. the quarantine
cannot be written) are listed in the summary too, and the command then fails."""

from __future__ import annotations

import json
import logging
import sys

from lensan import settings

from lensan.cli.output import fail, say
from lensan.orchestration.ops import to_jsonable


def add_parser(sub) -> None:
    p = sub.add_parser("land", help="nhận các file đang chờ / land the pending files")
    p.add_argument("sources", nargs="*", help=f"only these sources ({', '.join(settings.SOURCES)})")
    p.add_argument("--json", action="store_true", help="the summary as JSON / tóm tắt dạng JSON")
    p.set_defaults(func=cmd_land)


class _OneLine(logging.Formatter):
    """Log lines for the console: the message only, never a traceback (the summary says what failed)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().split("Traceback (most recent call last)")[0].strip()
        return f"  {record.levelname.lower()}: {(message.splitlines() or [''])[0].rstrip(': ')}"


def _quiet_console_log() -> None:
    """Landing logs through `lensan.landing`; without a configured handler Python would print warnings
    with their tracebacks. Errors only, one line each: the batch summary carries the rest."""
    logger = logging.getLogger("lensan")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR)
        handler.setFormatter(_OneLine())
        logger.addHandler(handler)


def print_summary(summary) -> None:
    """The batch summary: counts, then every quarantined, re-delivered and failed file with its reason."""
    say(f"Tóm tắt lần nhận: {len(summary.landed)} tệp đã nạp ({summary.rows:,} dòng), "
        f"{len(summary.duplicates)} tệp trùng (bỏ qua), {len(summary.redelivered)} lần gửi lại, "
        f"{len(summary.quarantined)} tệp bị cách ly, {len(summary.failed)} tệp lỗi hạ tầng.",
        f"Batch summary: {len(summary.landed)} files landed ({summary.rows:,} rows), "
        f"{len(summary.duplicates)} duplicates (skipped), {len(summary.redelivered)} re-deliveries, "
        f"{len(summary.quarantined)} quarantined, {len(summary.failed)} failed.")
    for item in summary.landed:
        print(f"  + {item.source}/{item.name}: {item.rows:,} dòng / rows")
        for warning in getattr(item, "warnings", ()):
            print(f"      cảnh báo: {warning.get('message_vi')}\n      warning: {warning.get('message_en')}")
    for item in summary.duplicates:
        print(f"  = {item.source}/{item.name}: đã nhận trước đó, không thay đổi / already landed, nothing changed")
    for item in summary.redelivered:
        print(f"  ~ {item.source}/{item.name}: cùng nội dung với / same bytes as {item.first_name}; "
              f"ghi nhận là lần gửi mới / recorded as a new delivery (ngày / date {item.file_date or '-'})")
    for item in summary.quarantined:
        print(f"  ! {item.source}/{item.name} [{item.code}]\n      vi: {item.message_vi}\n      en: {item.message_en}")
        if item.path:
            print(f"      → {item.path}")
    for item in summary.failed:
        print(f"  x {item['source']}/{item['name']}\n      vi: {item.get('message_vi') or item['error']}\n"
              f"      en: {item.get('message_en') or item['error']}")


def cmd_land(args) -> int:
    from lensan import landing

    unknown = [s for s in args.sources if s not in settings.SOURCES]
    if unknown:
        return fail(f"Nguồn không hợp lệ: {unknown}", f"Unknown sources: {unknown} (use {settings.SOURCES})", 2)
    _quiet_console_log()
    landing.ensure_raw_schema()
    try:
        summary = landing.land_pending(args.sources or None,
                                       progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    except landing.LandingIncomplete as incomplete:
        summary = incomplete.summary
    except RuntimeError as exc:     # the home's layout is refused before any file is touched
        return fail(f"Không thể nhận tệp: {exc}", f"Landing cannot run: {exc}")
    if args.json:
        print(json.dumps(to_jsonable(summary), ensure_ascii=False, indent=2, default=str))
    else:
        print_summary(summary)
    if summary.failed:
        return fail(f"{len(summary.failed)} tệp chưa nhận được và vẫn nằm trong thư mục landing (xem lý do ở trên).",
                    f"{len(summary.failed)} file(s) could not be landed and stay in landing (reasons above).")
    say("Đã nhận xong các file trong thư mục landing.", "Landing finished.")
    return 0
