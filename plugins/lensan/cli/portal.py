"""`lensan portal`: serve the reporting units' portal, issue / revoke / list access codes."""

from __future__ import annotations

import datetime as dt

from lensan import settings
from lensan.cli.output import fail, say


def add_parser(sub) -> None:
    p = sub.add_parser("portal", help="cổng nộp báo cáo tuần / the units' weekly-form portal")
    cmds = p.add_subparsers(dest="portal_command", required=True)
    serve = cmds.add_parser("serve", help="chạy cổng (uvicorn) / serve the portal")
    serve.add_argument("--host", default=None, help="mặc định LENSAN_PORTAL_HOST / default LENSAN_PORTAL_HOST")
    serve.add_argument("--port", type=int, default=None, help="mặc định LENSAN_PORTAL_PORT / default LENSAN_PORTAL_PORT")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="tin X-Forwarded-For/-Proto từ proxy / trust the reverse proxy's X-Forwarded-* headers")
    serve.add_argument("--forwarded-allow-ips", default=None,
                       help="địa chỉ proxy được tin / addresses of the trusted proxy (uvicorn's option)")
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    issue = cmds.add_parser("issue-code", help="cấp mã truy cập (in ra một lần) / issue an access code (printed once)")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", help="mã xã (đơn vị báo cáo) / reporting unit code")
    who.add_argument("--province", help="mã tỉnh (tài khoản tỉnh) / province code (a province account)")
    issue.add_argument("--expires", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    issue.set_defaults(func=cmd_issue)

    revoke = cmds.add_parser("revoke-code", help="thu hồi mã / revoke a code")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--code", help="mã, hoặc phần đầu công khai / the code or its public first part")
    which.add_argument("--unit", help="mọi mã của đơn vị / every code of a unit")
    which.add_argument("--province", help="mọi mã của tài khoản tỉnh / every code of a province account")
    revoke.set_defaults(func=cmd_revoke)

    listing = cmds.add_parser("list-codes", help="liệt kê mã (không có bí mật) / list codes (no secrets)")
    listing.add_argument("--unit")
    listing.add_argument("--province")
    listing.set_defaults(func=cmd_list)


def cmd_serve(args) -> int:
    from lensan.portal import server

    config = settings.load()
    host, port = args.host or config.portal_host, args.port or config.portal_port
    say(f"Cổng nộp báo cáo: http://{host}:{port}/", f"Portal: http://{host}:{port}/")
    server.serve(host, port, proxy_headers=args.proxy_headers, forwarded_allow_ips=args.forwarded_allow_ips,
                 workers=args.workers)
    return 0


def cmd_issue(args) -> int:
    from lensan.portal import codes

    kind, account = ("unit", args.unit) if args.unit else ("province", args.province)
    if args.expires < dt.date.today():
        return fail("Ngày hết hạn đã qua", "The expiry date is in the past", 2)
    try:
        code = codes.issue(kind, account, args.expires)
    except ValueError as exc:
        return fail(str(exc), str(exc), 2)
    say(f"Mã truy cập cho {kind} {account} (hết hạn {args.expires}); chỉ hiện một lần, hãy gửi cho đơn vị:",
        f"Access code for {kind} {account} (expires {args.expires}); shown once, hand it to the unit:")
    print(code)
    return 0


def cmd_revoke(args) -> int:
    from lensan.portal import codes

    if args.code:
        count = codes.revoke(args.code)
    else:
        kind, account = ("unit", args.unit) if args.unit else ("province", args.province.zfill(2))
        count = codes.revoke(kind=kind, account_code=account)
    say(f"Đã thu hồi {count} mã.", f"Revoked {count} code(s).")
    return 0 if count else 1


def cmd_list(args) -> int:
    from lensan.portal import codes

    kind = "unit" if args.unit else "province" if args.province else None
    for row in codes.listing(kind, args.unit or (args.province.zfill(2) if args.province else None)):
        state = "thu hồi/revoked" if row["revoked_at"] else (
            "hết hạn/expired" if row["expires_on"] < dt.date.today() else "hiệu lực/active")
        print(f"{row['code_ref']}  {row['account_kind']:8} {row['account_code']:6} "
              f"cấp/issued {row['issued_at']:%Y-%m-%d}  hết hạn/expires {row['expires_on']}  {state}")
    return 0
