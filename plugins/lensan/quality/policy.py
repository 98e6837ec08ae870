"""The publication policy: what a marts gate result lets a publication do. The one place this rule lives.

    passed / warnings only                          -> Proceed: publish every scope (warnings are flagged)
    error-severity failures that concern only some  -> Blocked: publish the others; the blocked scopes are
      provinces / regions (lensan.quality.scopes)      listed with their reason (index.json, manifests)
    any other error-severity failure                -> Stop: publish nothing for the period

Nothing happened vs data missing (the marts gates of one period: lensan.quality.summary.judge_period_inputs
on the facts lensan.quality.checkpoints.period_inputs reads). "Events" are the period's non-zero flows and
active accounts of the nation, all platforms (marts.fct_indicator_values); "extracts" are the platform
extracts (postmart, voso) landed or delivered again (raw.landed_files, raw.deliveries) for a day of the
period, with rows or empty:

    no rows for the period in the marts (no batch)     -> data missing: Stop, no_data (nothing landed for it)
    rows, no event, no extract for any of its days     -> data missing: Stop, no_data (the platforms' files
                                                          have not arrived: zeros would be invented)
    rows, no event, extracts landed                    -> nothing happened: the rules above as usual; the
                                                          summary says quiet (stocks carried forward, flows 0)
    rows with events                                   -> the rules above as usual

Every publishing DAG (lensan.orchestration.weekly / periodic) and `lensan publish` decide through
`decide` / `evaluate`; what a Stop then means for them (fail, skip when the period has no data, stop the
command) is theirs to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lensan.quality.summary import GateFailed, failure_message


@dataclass(frozen=True)
class Proceed:
    """Publish every scope."""
    summary: dict


@dataclass(frozen=True)
class Blocked:
    """Publish every scope but `scopes` (scope key -> why); `message` lists the failed expectations."""
    summary: dict
    scopes: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class Stop:
    """Publish nothing; `message` says which rules failed (Vietnamese and English)."""
    summary: dict
    message: str = ""

    @property
    def no_data(self) -> bool:
        """Data missing (no rows for the period, or no platform extract for any of its days and no event),
        rather than bad data: the publication has nothing to publish yet."""
        return bool(self.summary.get("no_data"))


Decision = Proceed | Blocked | Stop


def is_quiet(decision: Decision) -> bool:
    """The period is published although nothing happened on the platforms (see the module docstring)."""
    return not isinstance(decision, Stop) and bool(decision.summary.get("quiet"))


def decide(summary: dict) -> Decision:
    """The decision for a gate summary (lensan.quality.summary)."""
    if not summary.get("failed"):
        return Proceed(summary)
    blocked = dict(summary.get("blocked_scopes") or {})
    if summary.get("blocks_all") or not blocked:
        return Stop(summary, failure_message(summary))
    return Blocked(summary, blocked, failure_message(summary))


def evaluate(run_gate: Callable[[], dict]) -> Decision:
    """Run a gate (e.g. `lambda: checkpoints.run_checkpoint("marts", {"week_key": week})`) and decide."""
    try:
        summary = run_gate()
    except GateFailed as exc:
        summary = exc.summary
    return decide(summary)
