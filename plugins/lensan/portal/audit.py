"""The audit log of the portal (ops.portal_audit): sign-ins, sign-outs, uploads, template downloads
and denied pages. Account codes, outcomes, SHA-256 and the client address only: no names, no phones,
no file names (a file name may carry a person's name)."""

from __future__ import annotations

from lensan.portal import db


def record(event: str, outcome: str, *, account=None, code_ref: str | None = None, reason_code: str | None = None,
           week_key: str | None = None, sha256: str | None = None, client_ip: str | None = None) -> None:
    with db.cursor() as cur:
        cur.execute("insert into ops.portal_audit (event, account_kind, account_code, code_ref, outcome, "
                    "reason_code, week_key, sha256, client_ip) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (event, account.kind if account else None, account.code if account else None,
                     code_ref or (account.code_ref if account else None), outcome, reason_code, week_key, sha256,
                     client_ip))


def events(account_kind: str | None = None, account_code: str | None = None, limit: int = 200) -> list[dict]:
    with db.cursor() as cur:
        cur.execute("select event_id, at, event, account_kind, account_code, code_ref, outcome, reason_code, "
                    "week_key, sha256, client_ip from ops.portal_audit "
                    "where (%s::text is null or account_kind = %s) and (%s::text is null or account_code = %s) "
                    "order by event_id desc limit %s",
                    (account_kind, account_kind, account_code, account_code, limit))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def accepted_uploads(unit_code: str) -> dict[str, list[dict]]:
    """The unit's accepted uploads by week (newest first): what the portal received, landed or not yet."""
    out: dict[str, list[dict]] = {}
    for row in events("unit", unit_code, limit=1000):
        if row["event"] == "upload" and row["outcome"] == "accepted":
            out.setdefault(row["week_key"], []).append(row)
    return out


def first_accepted(unit_code: str, sha256: str):
    """When the unit's upload of these bytes was first accepted (None: never before)."""
    with db.cursor() as cur:
        cur.execute("select min(at) from ops.portal_audit where account_kind = 'unit' and account_code = %s "
                    "and event = 'upload' and outcome = 'accepted' and sha256 = %s", (unit_code, sha256))
        return cur.fetchone()[0]
