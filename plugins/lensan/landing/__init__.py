"""Landing layer: archive, parse, quarantine and load raw files (contract: docs/raw_formats.md).

Public API (used by the ingest DAG and the `lensan` CLI):

    ensure_raw_schema(conn=None) -> None                     (on its own connection without `conn`)
    land_pending(sources=None, conn=None) -> LandingSummary   (commits per file on `conn`; raises
        LandingIncomplete, carrying the summary, after the batch if a file failed for infrastructure
        reasons — bad files never raise, they are quarantined)
    check_file(path, source=None) -> CheckResult              (validates only: no archive, no database)
    reland_all(conn=None) -> LandingSummary                   (key rotation: rebuild raw rows from the archive
        with the current LENSAN_PSEUDONYM_KEY, one transaction; see docs/security.md)
    sweep_stale_temp_files() -> list[Path]                    (archive temp copies of killed runs; also run by
        land_pending)

Reason codes: `lensan.landing.errors.CODES` (messages in Vietnamese and English in `MESSAGES`).

Modules: `loader` (the orchestrator: land_pending, check_file, ensure_raw_schema), the steps of one file —
`names` (source from the content or the file name), `archive` (byte-for-byte copy + SHA-256), `load` (parse, insert raw
rows), `quarantine` (bad files + reason.json), `ledger` (raw.landed_files, raw.deliveries, withdrawal, the per-SHA-256 lock) —
`results` (what landing reports), `reland` (key rotation), `migrations` (older raw schemas).
Parsers: `landing.parsers.weekly_form`, `landing.parsers.household_register`; platform extracts:
`landing.platforms.spec` / `.reference` / `.fast` (its COPY text: `.copy_text`); numbers: `landing.numbers.parse_vn_number`; file
limits: `landing.safety`; keyed hashes: `landing.pseudonymise` (of the canonical phones and citizen IDs
of `landing.identity`).
"""

from lensan.landing.archive import sweep_stale_temp_files
from lensan.landing.errors import CODES, LandingError
from lensan.landing.loader import check_file, ensure_raw_schema, land_pending
from lensan.landing.names import detect_source, safe_name
from lensan.landing.numbers import NotANumber, parse_vn_number
from lensan.landing.reland import reland_all
from lensan.landing.results import CheckResult, Landed, LandingIncomplete, LandingSummary, Quarantined, Skipped

__all__ = ["CODES", "CheckResult", "Landed", "LandingError", "LandingIncomplete", "LandingSummary", "NotANumber", "Quarantined",
           "Skipped", "check_file", "detect_source", "ensure_raw_schema", "land_pending", "parse_vn_number",
           "reland_all", "safe_name", "sweep_stale_temp_files"]
