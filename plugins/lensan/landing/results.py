"""What landing reports: per-file outcomes (`Landed`, `Skipped`, `Redelivered`, `Quarantined`), the batch's
`LandingSummary`, `LandingIncomplete` (infrastructure failures after a batch) and `check_file`'s
`CheckResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Landed:
    source: str
    name: str
    rows: int
    warnings: tuple = ()     # what the accepted file lacks (as CheckResult.warnings), e.g. omitted form rows


@dataclass(frozen=True)
class Skipped:
    """A duplicate: a file whose SHA-256 had already landed (or been quarantined); nothing changed."""
    source: str
    name: str


@dataclass(frozen=True)
class Redelivered:
    """Bytes that had landed before, delivered again under another name: recorded in raw.deliveries
    (pointing at the archived bytes), no rows loaded again. `file_date` is the date the new name gives
    (a register's new snapshot date takes effect through raw.household_register_snapshots)."""
    source: str
    name: str
    first_name: str          # the name the bytes first landed under, as the archive keeps it (console only)
    file_date: str | None


@dataclass(frozen=True)
class Quarantined:
    source: str
    name: str
    code: str
    message_vi: str = ""
    message_en: str = ""
    path: str = ""           # where the file is now (quarantine/<source>/...), "" when nothing was kept


@dataclass
class LandingSummary:
    landed: list[Landed] = field(default_factory=list)
    duplicates: list[Skipped] = field(default_factory=list)     # SHA-256 already landed, same name: no-op
    redelivered: list[Redelivered] = field(default_factory=list)  # SHA-256 already landed, new name
    quarantined: list[Quarantined] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # infrastructure errors; file left in landing
    rows: int = 0                                               # raw rows loaded
    seconds: float = 0.0

    @property
    def skipped(self) -> list[Skipped]:
        return self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    ok: bool
    source: str | None
    name: str
    code: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    entity: str | None = None
    unit_code: str | None = None
    map_version: str | None = None
    week_key: str | None = None
    file_date: str | None = None
    row_count: int | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    # an accepted file's warnings, each {code, message_vi, message_en, detail} (e.g. FORM_ROWS_OMITTED)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LandingIncomplete(RuntimeError):
    """Raised by land_pending after the whole batch when some files failed for infrastructure reasons
    (database unavailable, disk full...): those files stay in landing for the next run. `.summary`
    holds what did land."""

    def __init__(self, summary: "LandingSummary"):
        from lensan.landing.names import log_name

        self.summary = summary
        # public names only: this message reaches Airflow's task log (the summary keeps the names)
        names = ", ".join(log_name(f["source"], f["name"]) for f in summary.failed[:5])
        super().__init__(f"{len(summary.failed)} file(s) could not be landed and stay in landing: {names}")

