"""What the commands print for people: Vietnamese first, then English; URLs without their password."""

from __future__ import annotations

import sys


def say(vi: str, en: str, *, file=None) -> None:
    """One message for people, Vietnamese first, then English."""
    print(f"{vi}\n  ({en})", file=file or sys.stdout, flush=True)


def fail(vi: str, en: str, code: int = 1) -> int:
    say("LỖI: " + vi, "ERROR: " + en, file=sys.stderr)
    return code


def redact(url: str) -> str:
    """A connection URL with its password replaced by ***."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url
