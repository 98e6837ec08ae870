"""The email channel: one message with the revision's XLSX and CSV files attached, and its wording.

Airflow connection `lensan_smtp` (LENSAN_SMTP_CONN_ID), used through the SMTP provider's SmtpHook.
Recipients: LENSAN_REPORT_RECIPIENTS (comma/semicolon separated) if set, else the connection extra
`recipients` (list or string; also `to`). Sender: extra `from_email`, else LENSAN_REPORT_SENDER, else
`lensan@localhost`. Subject in Vietnamese; short Vietnamese + English HTML body with the manifest summary
and every file's SHA-256. The Message-ID is derived from the revision, so a message sent twice (a crash
between sending and recording it) is recognisably the same message.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from lensan import settings
from lensan.calendar import periods
from lensan.delivery.channels.base import ConnectionChannel
from lensan.delivery.manifest import Revision
from lensan.delivery.results import DeliveryError

# period_type (directory name) -> (Vietnamese, English) name of the report


def split_addresses(value: Any) -> list[str]:
    """E-mail addresses from a comma/semicolon/space separated string or a list."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,;\s]+", value)
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        raise DeliveryError(f"invalid recipients {value!r}")
    return [i.strip() for i in items if i and i.strip()]


class Email(ConnectionChannel):
    name = "email"
    conn_env = "LENSAN_SMTP_CONN_ID"

    def recipients(self) -> list[str]:
        env = settings.load().report_recipients
        recipients = split_addresses(env) if env else split_addresses(
            self.conn.extra_dejson.get("recipients") or self.conn.extra_dejson.get("to")
        )
        if not recipients:
            raise DeliveryError(
                f"no e-mail recipients: set LENSAN_REPORT_RECIPIENTS or the extra 'recipients' of "
                f"connection {self.conn_id!r}"
            )
        return recipients

    def sender(self) -> str:
        return (
            self.conn.extra_dejson.get("from_email")
            or settings.load().report_sender
            or "lensan@localhost"
        )

    def target(self, rev: Revision) -> str:
        return f"smtp://{self.conn.host}:{self.conn.port} to " + ",".join(sorted(self.recipients()))

    def send(self, rev: Revision) -> tuple[str, str]:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        recipients = self.recipients()
        attachments = [
            str(rev.path / f.name) for f in rev.files if f.name.lower().endswith((".xlsx", ".csv"))
        ]
        if not attachments:
            raise DeliveryError(f"{rev.path}: no XLSX or CSV file to attach")
        message_id = (
            f"<lensan.{'.'.join(rev.rel.parts)}.{rev.manifest_sha256[:16]}@lensan.local>"
        )
        try:
            with SmtpHook(smtp_conn_id=self.conn_id) as hook:
                hook.send_email_smtp(
                    to=recipients,
                    subject=email_subject(rev),
                    html_content=email_body(rev),
                    from_email=self.sender(),
                    files=attachments,
                    custom_headers={
                        "Message-ID": message_id,
                        "X-Lensan-Revision": rev.key,
                        "X-Lensan-Manifest-SHA256": rev.manifest_sha256,
                    },
                )
        except DeliveryError:
            raise
        except Exception as exc:
            raise DeliveryError(
                f"e-mail delivery via connection {self.conn_id!r} "
                f"({self.conn.host}:{self.conn.port}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        names = ", ".join(Path(a).name for a in attachments)
        return "delivered", f"sent to {', '.join(recipients)} with {names}"


# --------------------------------------------------------------------------------------------
# e-mail content


def period_label(period_type: str) -> tuple[str, str]:
    return periods.PERIOD_NAMES.get(period_type, (period_type, period_type))


def email_subject(rev: Revision) -> str:
    vi, _ = period_label(rev.period_type)
    return f"[lensan] Báo cáo {vi} {rev.period_key} — {rev.scope_name} (lần {rev.number})"


def _summary_items(rev: Revision) -> list[tuple[str, str]]:
    m = rev.manifest
    items = [
        ("Kỳ báo cáo / Period", f"{rev.period_type} {rev.period_key}"),
        ("Phạm vi / Scope", f"{rev.scope_name} ({rev.scope})"),
        ("Lần phát hành / Revision", str(rev.number)),
    ]
    if m.get("generated_at"):
        items.append(("Thời điểm tạo / Generated at", str(m["generated_at"])))
    gate = m.get("gate")
    if isinstance(gate, dict):
        status = gate.get("status") or json.dumps(gate, ensure_ascii=False)
        items.append(("Kiểm tra chất lượng / Quality gate", str(status)))
    rows = m.get("row_counts")
    if isinstance(rows, dict):
        items.append(("Số dòng / Rows", ", ".join(f"{k}: {v}" for k, v in rows.items())))
    flags = m.get("quality_flags")
    if isinstance(flags, list) and flags:
        items.append(("Cảnh báo chất lượng / Quality flags", ", ".join(map(str, flags))))
    if m.get("source_file_count") is not None:
        items.append(("Tệp nguồn / Source files", str(m["source_file_count"])))
    items.append(("SHA-256 manifest.json", rev.manifest_sha256))
    return items


def email_body(rev: Revision) -> str:
    vi, en = period_label(rev.period_type)
    e = html.escape
    rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _summary_items(rev))
    files = "".join(
        f"<tr><td>{e(f.name)}</td><td>{rev.size_of(f.name)}</td><td><code>{f.sha256}</code></td></tr>"
        for f in rev.files
    )
    return (
        "<html><body>"
        "<p>Kính gửi Quý cơ quan,</p>"
        f"<p>Hệ thống lensan gửi kèm báo cáo {e(vi)} {e(rev.period_key)} "
        f"— {e(rev.scope_name)}, lần phát hành {rev.number} (tệp XLSX và CSV đính kèm). "
        "Mã SHA-256 dưới đây dùng để kiểm tra tính toàn vẹn của tệp.</p>"
        f"<p>Dear colleagues, attached is the lensan {e(en)} report {e(rev.period_key)} for "
        f"{e(rev.scope_name)}, revision {rev.number} (XLSX and CSV). The SHA-256 checksums below "
        "let you verify the files.</p>"
        f"<table border='1' cellpadding='3'>{rows}</table>"
        "<p>Tệp / Files:</p>"
        "<table border='1' cellpadding='3'>"
        f"<tr><th>Tệp / File</th><th>Bytes</th><th>SHA-256</th></tr>{files}</table>"
        "<p>Thư này được gửi tự động. / This message was sent automatically.</p>"
        "</body></html>"
    )
