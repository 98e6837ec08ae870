"""No secret is committed: keys, passwords and tokens live in the environment or .env only."""

from __future__ import annotations

import re
import subprocess

import pytest

from lensan.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

# Built from parts so this file does not match itself.
PATTERNS = {
    "private key": re.compile("-----BEGIN " + r"(RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA" + r"[0-9A-Z]{16}\b"),
    "password in a URL": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?!\$\{|<|\*|(?i:change-?me|change_me)|pass@|password@|secret@)[^@\s'\"/]{3,}@"),
    "assigned secret": re.compile(
        r"(?i)(password|passwd|secret|api_key|token|pseudonym_key)\s*[:=]\s*['\"]?"
        r"(?!\$\{|<|change-?me|change_me|placeholder|\{\{|os\.environ|None|null|''|\"\"|test-only)[A-Za-z0-9/+_\-]{12,}"),
}
ALLOWED_FILES = {"requirements-lock.txt"}


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True).stdout
    return [PROJECT_ROOT / line for line in out.splitlines() if line and line not in ALLOWED_FILES]


def test_no_secret_patterns_in_the_tree():
    hits = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in {".xlsx", ".gz", ".png", ".pdf"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {name}: {match.group(0)[:60]}")
    assert not hits, "\n".join(hits)


def test_the_patterns_do_catch_secrets():
    assert PATTERNS["password in a URL"].search("postgresql://lensan:" + "s3cretPass@db:5432/lensan")
    assert not PATTERNS["password in a URL"].search("postgresql://lensan:${POSTGRES_PASSWORD}@db:5432/lensan")
    assert PATTERNS["assigned secret"].search("LENSAN_PSEUDONYM_KEY=" + "9f8e7d6c5b4a39281706")
    assert not PATTERNS["assigned secret"].search("LENSAN_PSEUDONYM_KEY=changeme")
    assert PATTERNS["private key"].search("-----BEGIN " + "RSA PRIVATE KEY-----")
