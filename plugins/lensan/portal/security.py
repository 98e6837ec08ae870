"""Sessions, CSRF tokens, rate limits, the upload size cap and the security headers of the portal.

- Session: a cookie signed with itsdangerous (key: LENSAN_PORTAL_SECRET or LENSAN_HOME/secrets/portal.key),
  HttpOnly, SameSite=Strict, Secure unless LENSAN_PORTAL_INSECURE_COOKIES (plain http on localhost). It
  holds the code's public REF and a CSRF token; every request looks the code up again (`codes.account_for`),
  so revoking a code ends its sessions.
- CSRF: every POST carries the session's token in a hidden field (synchroniser token); a missing
  session or a token that differs is refused with 403.
- Rate limits: an in-process token bucket per client address for sign-in, per account for uploads.
- Upload cap: `BodyCap` counts the request body as it streams in and stops it past the limit, so no
  oversized file is ever held in full; a Content-Length over the limit is refused before reading.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lensan import settings

COOKIE = "lensan_portal"
SESSION_SECONDS = 8 * 3600
MULTIPART_SLACK = 64 * 1024      # the form's other fields and part headers around the file
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def secret_key() -> str:
    key = settings.load().portal_secret
    if key:
        return key
    key_file = settings.home_dir("secrets") / "portal.key"
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:      # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


class Sessions:
    def __init__(self, key: str):
        self._serializer = URLSafeTimedSerializer(key, salt="lensan-portal-session")

    def load(self, cookie: str | None) -> dict:
        if not cookie:
            return {}
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    def dump(self, data: dict) -> str:
        return self._serializer.dumps(data)


def new_session(code_ref: str | None = None) -> dict:
    return {"ref": code_ref, "csrf": secrets.token_urlsafe(24)}


def csrf_ok(session: dict, token: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and token) and hmac.compare_digest(str(expected), str(token))


def cookie_options(secure: bool) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/", "max_age": SESSION_SECONDS}


class TokenBucket:
    """`rate_per_min` tokens a minute per key, at most `rate_per_min` saved up; thread-safe."""

    def __init__(self, rate_per_min: float, clock=time.monotonic):
        self.capacity = max(1.0, rate_per_min)
        self.rate = rate_per_min / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > 100_000:   # forget idle keys: bounded memory
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}
            return allowed


class TooLarge(Exception):
    """The request body passed the cap while streaming in."""


def max_upload_bytes() -> int:
    return int(settings.load().portal_max_upload_mb * 1024 * 1024)


class BodyCap:
    """ASGI middleware: the body of a POST to an upload path may not exceed the upload cap, any other
    POST (sign-in, sign-out) MULTIPART_SLACK.

    A declared Content-Length over the cap gets 413 without a byte read; an undeclared (chunked) body
    is counted as it arrives and TooLarge is raised inside the reader (the route turns it into 413)."""

    def __init__(self, app, is_upload, on_too_large):
        self.app, self.is_upload, self.on_too_large = app, is_upload, on_too_large

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        cap = MULTIPART_SLACK + (max_upload_bytes() if self.is_upload(scope["path"]) else 0)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            return await self.on_too_large(scope, receive, send)
        seen = 0

        async def capped():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise TooLarge()
            return message

        await self.app(scope, capped, send)
