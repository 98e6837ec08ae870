"""A scripted portal user over real HTTP (httpx): sign in with a code, upload a file, read the verdict.
Used by `lensan demo` (one unit's form goes through the portal) and the Thursday-rush benchmark."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SHA = re.compile(r'id="sha256">([0-9a-f]{64})<')
_REASON = re.compile(r'id="reason"><strong>\[([A-Z_]+)\]')


@dataclass
class Upload:
    status: int
    ok: bool
    sha256: str | None
    code: str | None


class PortalClient:
    def __init__(self, base_url: str, timeout: float = 60.0):
        self.http = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False)
        self.account_path: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _csrf(self, path: str) -> str:
        response = self.http.get(path)
        response.raise_for_status()
        return _CSRF.search(response.text)[1]

    def sign_in(self, code: str) -> str:
        """Signs in; the account's home path (/unit/<code> or /province/<code>)."""
        response = self.http.post("/sign-in", data={"code": code, "csrf": self._csrf("/sign-in")})
        if response.status_code != 303:
            raise RuntimeError(f"sign-in refused: HTTP {response.status_code}")
        self.account_path = response.headers["location"]
        return self.account_path

    def upload(self, name: str, data: bytes) -> Upload:
        token = self._csrf(self.account_path)
        response = self.http.post(f"{self.account_path}/upload", data={"csrf": token},
                                  files={"file": (name, data, "application/octet-stream")})
        sha = _SHA.search(response.text)
        reason = _REASON.search(response.text)
        return Upload(response.status_code, response.status_code == 200 and sha is not None,
                      sha[1] if sha else None, reason[1] if reason else None)
