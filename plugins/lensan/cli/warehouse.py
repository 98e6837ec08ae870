"""`lensan warehouse start|stop|url`: the embedded PostgreSQL warehouse."""

from __future__ import annotations

from lensan import settings

from lensan.cli.output import redact, say


def add_parser(sub) -> None:
    p = sub.add_parser("warehouse", help="kho dữ liệu nhúng / the embedded warehouse")
    p.add_argument("action", choices=["start", "stop", "url"])
    p.add_argument("--show-password", action="store_true", help="url: print the password too")
    p.set_defaults(func=cmd_warehouse)


def cmd_warehouse(args) -> int:
    from lensan.db import embedded, warehouse

    if args.action == "start":
        info = warehouse.connection_info()
        say(f"Kho dữ liệu đang chạy: {redact(info.url)}", f"Warehouse running: {redact(info.url)}")
    elif args.action == "stop":
        if settings.external_warehouse_url():
            say("Kho dữ liệu ngoài (LENSAN_WAREHOUSE_URL): không dừng.",
                "External warehouse (LENSAN_WAREHOUSE_URL): not stopped.")
        elif embedded.stop():
            say("Đã dừng kho dữ liệu nhúng.", "Embedded warehouse stopped.")
        else:
            say("Kho dữ liệu nhúng không chạy.", "Embedded warehouse was not running.")
    else:
        print(warehouse.warehouse_url() if args.show_password else redact(warehouse.warehouse_url()))
    return 0
