"""Keyed hashing of personal data at landing, so clear names, phones and IDs never reach tables."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from lensan import config

KINDS = ("name", "phone", "citizen_id")


def normalise(kind: str, value: str) -> str:
    """The canonical form hashed, so `0912 345 678` and `+84912345678` link to the same household."""
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if digits.startswith("84") and len(digits) >= 11:
            digits = "0" + digits[2:]
        return digits
    if kind == "citizen_id":
        return re.sub(r"\D", "", value)
    if kind == "name":
        return " ".join(unicodedata.normalize("NFC", value).casefold().split())
    raise ValueError(f"unknown personal-data kind {kind!r}")


def pseudonymise(kind: str, value: object, key: bytes | None = None) -> str | None:
    """Hex HMAC-SHA256 of the normalised value; None for blank input (absence stays visible)."""
    if value is None:
        return None
    text = normalise(kind, str(value))
    if not text:
        return None
    secret = key if key is not None else config.pseudonym_key()
    return hmac.new(secret, f"{kind}:{text}".encode("utf-8"), hashlib.sha256).hexdigest()
