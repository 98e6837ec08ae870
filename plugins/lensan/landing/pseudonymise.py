"""Keyed hashing of personal data at landing, so clear names, phones and IDs never reach tables."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from lensan import settings
from lensan.landing import identity

KINDS = ("name", "phone", "citizen_id", "file_name")


def normalise(kind: str, value: object) -> str:
    """The canonical form hashed ('' for blank), so `0912 345 678`, `+84 (0) 912 345 678` and the number
    cell 912345678 link to the same household: phones and citizen IDs by `lensan.landing.identity`."""
    if kind == "phone":
        return identity.phone(value) or ""
    if kind == "citizen_id":
        return identity.citizen_id(value) or ""
    if kind == "name":
        return " ".join(unicodedata.normalize("NFC", str(value)).casefold().split())
    if kind == "file_name":     # a delivered file's name as the archive keeps it (names.safe_name)
        from lensan.landing.names import safe_name

        return safe_name(str(value))
    raise ValueError(f"unknown personal-data kind {kind!r}")


def pseudonymise(kind: str, value: object, key: bytes | None = None) -> str | None:
    """Hex HMAC-SHA256 of the normalised value (a cell: text, int or float); None for blank input
    (absence stays visible)."""
    if value is None:
        return None
    text = normalise(kind, value)
    if not text:
        return None
    secret = key if key is not None else settings.pseudonym_key()
    return hmac.new(secret, f"{kind}:{text}".encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_key_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer key pads (RFC 2104): the hashes of `pad + message` make the HMAC."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class Pseudonymiser:
    """`pseudonymise` under one key, fast and cached, for a landing run: the same hex HMAC-SHA256.

    Callable as `hasher(kind, value)`; `hex_digests(kind, values)` hashes a list of normalised values
    at once, and `hex_digest_expr(kind, column)` is the same as a polars expression (HMAC-SHA256 in
    Rust, by the polars-hash plugin: about a third of the cost per phone). The key
    lives only in this object's memory; nothing is written anywhere. The cache is bounded
    (`max_cache` values per kind) so a national file cannot grow it without limit.
    """

    def __init__(self, key: bytes | None = None, max_cache: int = 1 << 18):
        secret = key if key is not None else settings.pseudonym_key()
        try:    # the plugin takes the key as text (its UTF-8 bytes); lensan's keys always are text
            self._key_text: str | None = secret.decode("utf-8")
        except UnicodeDecodeError:
            self._key_text = None
        inner_pad, outer_pad = hmac_key_pads(secret)
        self._inner = hashlib.sha256(inner_pad)
        self._outer = hashlib.sha256(outer_pad)
        self._max = max_cache
        self._cache: dict[str, dict[str, str]] = {}

    def hash_text(self, kind: str, value: object) -> str | None:
        """Same as pseudonymise(kind, value, key)."""
        text = normalise(kind, value)
        return self.hex_digests(kind, [text])[0] if text else None

    def __call__(self, kind: str, value: object) -> str | None:
        if value is None:
            return None
        if type(value) is not str:     # a number cell: identity reads int and float itself
            return self.hash_text(kind, value)
        cache = self._cache.get(kind)
        if cache is None:
            cache = self._cache[kind] = {}
        try:
            hashed = cache[value]
        except KeyError:
            if len(cache) >= self._max:
                cache.clear()
            hashed = cache[value] = self.hash_text(kind, value) or ""
        return hashed or None

    def hex_digests(self, kind: str, normalised: list[str]) -> list[str]:
        """Hex hashes of values already in `normalise(kind, …)` form and not blank, in order."""
        inner, outer = self._inner.copy(), self._outer
        inner.update(f"{kind}:".encode("utf-8"))
        digests = []
        append = digests.append
        for text in normalised:
            h = inner.copy()
            h.update(text.encode("utf-8"))
            o = outer.copy()
            o.update(h.digest())
            append(o.hexdigest())
        return digests

    def hex_digest_expr(self, kind: str, normalised: "pl.Expr") -> "pl.Expr | None":
        """`hex_digests` of a string column of normalised, non-blank values as a polars expression;
        None when the key is not text (then landing hashes value by value)."""
        if self._key_text is None:
            return None
        import polars as pl
        import polars_hash  # noqa: F401 - registers the `chash` namespace

        return (pl.lit(f"{kind}:") + normalised).chash.hmac_sha256(key=self._key_text)

