"""Access codes: issued by a province for one unit (or for the province itself), stored hashed.

A code reads `REF-SECRET` (e.g. `K7QD2M-8VX3-KP9T-4HNW-J6RB`): REF is public and finds the row,
SECRET (80 random bits) is only kept as a salted scrypt hash (memory-hard, stdlib). The code is shown
once, when issued. A revoked or expired code signs nobody in, and a session whose code is revoked or
expired ends at its next request (`account_for`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from lensan import reference
from lensan.portal import db
from lensan.settings import LOCAL_TZ

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # no 0/O, 1/I: read over the phone
# scrypt at 4 MiB: the secret is 80 random bits (no dictionary to try), so the hash only has to make a
# stolen table useless; a heavier setting would cost every sign-in of the Thursday rush (bench rush)
_SCRYPT = {"n": 2 ** 12, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class Account:
    kind: str          # unit | province
    code: str          # commune (or pre-reform district) code, or province code
    code_ref: str
    expires_on: dt.date

    @property
    def label(self) -> str:
        return f"{self.kind}-{self.code}"


class CodeError(ValueError):
    """Why a code signs nobody in: outcome is bad_code, expired or revoked."""

    def __init__(self, outcome: str):
        super().__init__(outcome)
        self.outcome = outcome


def _group(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("ascii"), salt=salt, **_SCRYPT)


def normalise(code: str) -> tuple[str, str]:
    """(ref, secret) of a code as typed: case, spaces and dashes do not matter."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return cleaned[:6], cleaned[6:]


def check_account(kind: str, code: str) -> str:
    """The account code, checked against the reference (a post-reform commune, or a province)."""
    if kind == "unit":
        unit = reference.reporting_unit("post2025", code) or reference.reporting_unit("pre2025", code)
        if unit is None:
            raise ValueError(f"'{code}' không phải đơn vị báo cáo / is not a reporting unit")
        return unit.code
    code = code.zfill(2)
    if ("post2025", code) not in reference.provinces():
        raise ValueError(f"'{code}' không phải mã tỉnh (sau sáp nhập) / is not a post-2025 province code")
    return code


def issue_many(kind: str, account_codes: list[str], expires_on: dt.date, threads: int = 2) -> dict[str, str]:
    """A code for each account ({account code: clear code}); the hashes computed on `threads` threads
    (scrypt releases the GIL). For a province issuing all its units' codes at once, and the rush benchmark."""
    from concurrent.futures import ThreadPoolExecutor

    accounts = [check_account(kind, code) for code in account_codes]
    with ThreadPoolExecutor(max(1, threads)) as pool:
        made = list(pool.map(lambda _: (_group(16), secrets.token_bytes(16)), accounts))
        hashes = list(pool.map(lambda pair: _hash(*pair), made))
    out = {}
    with db.cursor() as cur:
        for account, (secret, salt), hashed in zip(accounts, made, hashes):
            while True:
                ref = _group(6)
                cur.execute("insert into ops.portal_codes (code_ref, account_kind, account_code, secret_salt, "
                            "secret_hash, expires_on) values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
                            (ref, kind, account, salt, hashed, expires_on))
                if cur.rowcount:
                    break
            out[account] = f"{ref}-" + "-".join(secret[i:i + 4] for i in range(0, 16, 4))
    return out


def issue(kind: str, account_code: str, expires_on: dt.date) -> str:
    """A new code for the account; returns the clear code (never stored)."""
    return issue_many(kind, [account_code], expires_on, threads=1)[account_code]


def revoke(code_or_ref: str | None = None, kind: str | None = None, account_code: str | None = None) -> int:
    """Revoke one code (the code itself or its public REF) or every code of an account; the count."""
    with db.cursor() as cur:
        if code_or_ref:
            cur.execute("update ops.portal_codes set revoked_at = now() where code_ref = %s and revoked_at is null",
                        (normalise(code_or_ref)[0],))
        else:
            cur.execute("update ops.portal_codes set revoked_at = now() where account_kind = %s "
                        "and account_code = %s and revoked_at is null", (kind, account_code))
        return cur.rowcount


def _today() -> dt.date:
    return dt.datetime.now(tz=LOCAL_TZ).date()


def _row(cur, ref: str):
    cur.execute("select account_kind, account_code, secret_salt, secret_hash, expires_on, revoked_at "
                "from ops.portal_codes where code_ref = %s", (ref,))
    return cur.fetchone()


def verify(code: str) -> Account:
    """The account the code signs in; CodeError(bad_code | revoked | expired) otherwise."""
    ref, secret = normalise(code)
    with db.cursor() as cur:
        row = _row(cur, ref) if len(ref) == 6 and len(secret) == 16 else None
    if row is None:
        _hash("x" * 16, b"0" * 16)   # the same time whether or not the REF exists
        raise CodeError("bad_code")
    kind, account_code, salt, stored, expires_on, revoked_at = row
    if not hmac.compare_digest(_hash(secret, bytes(salt)), bytes(stored)):
        raise CodeError("bad_code")
    if revoked_at is not None:
        raise CodeError("revoked")
    if expires_on < _today():
        raise CodeError("expired")
    return Account(kind, account_code, ref, expires_on)


def account_for(ref: str) -> Account | None:
    """The account of a signed-in session's code, while that code is neither revoked nor expired."""
    with db.cursor() as cur:
        row = _row(cur, ref)
    if row is None or row[5] is not None or row[4] < _today():
        return None
    return Account(row[0], row[1], ref, row[4])


def listing(kind: str | None = None, account_code: str | None = None) -> list[dict]:
    """The codes (public REF, account, dates, state) — never a secret."""
    with db.cursor() as cur:
        cur.execute("select code_ref, account_kind, account_code, issued_at, expires_on, revoked_at "
                    "from ops.portal_codes where (%s::text is null or account_kind = %s) "
                    "and (%s::text is null or account_code = %s) order by issued_at",
                    (kind, kind, account_code, account_code))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
