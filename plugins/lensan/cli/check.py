"""`lensan check FILE`: whether a file would land, before it is delivered — landing's own verdict
(`landing.check_file`, the code path landing runs), with the source told from the content unless
`--source` names it; `--json` prints the verdict for scripts. Exit 0 when it would land, 1 otherwise."""

from __future__ import annotations

import json
from pathlib import Path

from lensan.cli.output import fail, say
from lensan.settings import SOURCES


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="kiểm tra một file trước khi gửi / check one file before delivering it")
    p.add_argument("file")
    p.add_argument("--source", choices=SOURCES, default=None,
                   help="nguồn của file (mặc định: nhận diện từ nội dung) / the file's source "
                        "(default: told from its content)")
    p.add_argument("--json", action="store_true",
                   help="in kết quả dạng JSON cho script / print the verdict as JSON for scripts")
    p.set_defaults(func=cmd_check)


def verdict(result) -> dict:
    """What `--json` prints: ok, code, both messages, detail, the cell/range/line, warnings, identity."""
    detail = result.detail or {}
    return {"ok": result.ok, "file": result.name, "source": result.source, "code": result.code,
            "message_vi": result.message_vi, "message_en": result.message_en, "detail": detail,
            "where": detail.get("where"), "warnings": result.warnings, "entity": result.entity,
            "unit_code": result.unit_code, "week_key": result.week_key, "file_date": result.file_date,
            "row_count": result.row_count}


def cmd_check(args) -> int:
    from lensan import landing

    path = Path(args.file)
    if not path.exists():
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "file": path.name, "code": "FILE_NOT_FOUND",
                              "message_vi": f"Không tìm thấy file {path}", "message_en": f"File not found: {path}"},
                             ensure_ascii=False))
            return 2
        return fail(f"Không tìm thấy file {path}", f"File not found: {path}", 2)
    result = landing.check_file(path, getattr(args, "source", None))
    if getattr(args, "json", False):
        print(json.dumps(verdict(result), ensure_ascii=False, indent=1, default=str))
        return 0 if result.ok else 1
    if result.ok:
        say(f"OK — {path.name} hợp lệ, có thể gửi.", f"OK — {path.name} is valid and can be delivered.")
        for item in result.warnings:
            code = item["code"]
            say(f"  CẢNH BÁO [{code}]: {item['message_vi']}", f"WARNING [{code}]: {item['message_en']}")
        return 0
    say(f"KHÔNG HỢP LỆ [{result.code}]: {result.message_vi}", f"INVALID [{result.code}]: {result.message_en}")
    return 1     # the messages name the cell / range / line; --json gives the detail to scripts
