"""`lensan withdraw <file name | sha256> --reason "…"`: take back a landed file. It stays in the archive
and in raw (history, with when and why); staging leaves it out, and the next build and publication
revise the periods it fed (README: "Recovering from a bad delivery")."""

from __future__ import annotations

from lensan.cli.output import fail, say


def add_parser(sub) -> None:
    p = sub.add_parser("withdraw", help="rút một file đã nhận / withdraw a landed file")
    p.add_argument("file", help="tên file (như đã gửi) hoặc SHA-256 / the file's name as delivered (found in the "
                                "archive) or its SHA-256 (or its first 12+ hex digits)")
    p.add_argument("--reason", required=True, help="lý do / why it is withdrawn (kept with the file)")
    p.set_defaults(func=cmd_withdraw)


def cmd_withdraw(args) -> int:
    from lensan.db import warehouse
    from lensan.landing import ensure_raw_schema, ledger

    conn = warehouse.connect()
    try:
        ensure_raw_schema(conn)
        try:
            done = ledger.withdraw(conn, args.file, args.reason)
        except ledger.WithdrawalRefused as refused:
            return fail(refused.message_vi, refused.message_en, refused.exit_code)
    finally:
        conn.close()
    when = f"{done.withdrawn_at:%Y-%m-%d %H:%M:%S %Z}"
    name = f"{done.source}/{done.public_name}"
    if done.already:
        say(f"Tệp {name} đã được rút trước đó ({when}: {done.withdrawn_reason}); không thay đổi gì.",
            f"The file {name} was withdrawn before ({when}: {done.withdrawn_reason}); nothing changed.")
        return 0
    # the archive path (the name as delivered) only here, on the operator's console
    say(f"Đã rút tệp {name} (SHA-256 {done.sha256}) lúc {when}.\n"
        f"  Tệp vẫn được lưu tại {done.archived}.\n"
        "  Lần dựng dữ liệu tiếp theo (dbt build) sẽ bỏ tệp này và tính lại các kỳ bị ảnh hưởng; "
        "công bố lại sẽ tạo bản sửa đổi mới.",
        f"Withdrew {name} (SHA-256 {done.sha256}) at {when}.\n"
        f"  The file is kept at {done.archived}.\n"
        "  The next build (dbt build) leaves it out and recomputes the periods it fed; publishing again "
        "writes new revisions.")
    return 0
