"""What a delivery reports: one `DeliveryResult` per channel, or a `DeliveryError` that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    revision_dir: Path
    status: str  # delivered | skipped | failed
    detail: str


class DeliveryError(RuntimeError):
    """A delivery failed; `results` holds the outcome of every channel attempted."""

    def __init__(self, message: str, results: list[DeliveryResult] | None = None):
        super().__init__(message)
        self.results = results or []
