"""`lensan check FILE`: whether a file would land, before it is delivered."""

from __future__ import annotations

from pathlib import Path

from lensan.cli.output import fail, say


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="kiểm tra một file trước khi gửi / check one file before delivering it")
    p.add_argument("file")
    p.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from lensan import landing

    path = Path(args.file)
    if not path.exists():
        return fail(f"Không tìm thấy file {path}", f"File not found: {path}", 2)
    result = landing.check_file(path)
    if result.ok:
        say(f"OK — {path.name} hợp lệ, có thể gửi.", f"OK — {path.name} is valid and can be delivered.")
        return 0
    code = getattr(result, "code", "") or ""
    say(f"KHÔNG HỢP LỆ [{code}]: {result.message_vi}", f"INVALID [{code}]: {result.message_en}")
    detail = getattr(result, "detail", None)
    if detail:
        print(f"  {detail}")
    return 1
