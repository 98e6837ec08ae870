"""Revise only what changed, measured on a warehouse with many published weeks (lensan_dev.bench.history).

The weekly DAG's `revise_earlier_weeks` (lensan.orchestration.weekly) gates and publishes again the
earlier weeks whose data changed since its last pass (lensan.orchestration.changed). In the history case
of the benchmark, after the full build of the history:

1. every history week is gated and published, as the weekly DAG did each Thursday (`publish_history_s`);
2. a first revision pass: no watermark recorded yet, so every published week counts as changed — what
   the DAG did every Thursday before it revised only what changed (`first_pass`);

then, after the new week is landed and built incrementally:

3. the new week is gated and published, and the revision pass runs as on that Thursday: it revises
   only the weeks the new week's files can change (late status changes, returns of earlier orders)
   (`after_new_week`);
4. the same pass again, as a rerun of the task: nothing changed since, nothing is revised (`rerun`).

Each pass reports {"revised": n, "weeks": [...], "untouched": n, "everything": why | None,
"new_revisions": n, "seconds": s}. The calls are the DAG's own (`lensan.orchestration.weekly`) with a
task context that names this benchmark as the DAG run.
"""

from __future__ import annotations

import time
from types import SimpleNamespace


def context(run: str) -> dict:
    """The parts of an Airflow task context the weekly tasks read (gate run ids)."""
    return {"dag": SimpleNamespace(dag_id="bench_revise"), "run_id": run, "params": {}}


def publish_weeks(weeks: list[str]) -> dict:
    """Gate and publish each week as the weekly DAG does (gate_week, publish_week)."""
    from lensan.orchestration import publication
    from lensan.publish import service as publish
    from lensan.quality import policy

    started = time.perf_counter()
    stopped = []
    for key in weeks:
        decision = publication.decide("week", key, f"bench_revise__publish__{key}")
        if isinstance(decision, policy.Stop):
            stopped.append(key)
            continue
        publish.publish_weekly(key, gate_summary=decision.summary)
    seconds = time.perf_counter() - started
    return {"weeks": len(weeks), "stopped": stopped, "seconds": round(seconds, 2),
            "seconds_per_week": round(seconds / max(len(weeks), 1), 2)}


def revision_pass(week: str, run: str) -> dict:
    """One `revise_earlier_weeks` pass of the weekly DAG for `week`, timed."""
    from lensan.orchestration import weekly

    started = time.perf_counter()
    out = weekly.revise_earlier_weeks(week, context(run))
    return {"revised": len(out["weeks"]), "weeks": sorted(out["weeks"]), "untouched": out["untouched"],
            "everything": out["everything"], "new_revisions": len(out["published"]),
            "seconds": round(time.perf_counter() - started, 2)}


def before_new_week(history_weeks: list[str], new_week: str) -> dict:
    """Steps 1 and 2 of the module doc."""
    return {"publish_history": publish_weeks(history_weeks),
            "first_pass": revision_pass(new_week, "first_pass")}


def after_new_week(new_week: str) -> dict:
    """Steps 3 and 4 of the module doc."""
    return {"publish_new_week": publish_weeks([new_week]),
            "after_new_week": revision_pass(new_week, "after_new_week"),
            "rerun": revision_pass(new_week, "rerun")}


def render(figures: dict, published: int) -> list[str]:
    """The history table's lines about revisions (`figures` = before_new_week | after_new_week)."""
    if not figures:
        return []
    pub = figures["publish_history"]
    lines = [f"  revise only what changed, {published} week(s) published: gate + publish "
             f"{pub['seconds_per_week']:.1f} s a week"]
    for key, label in (("first_pass", "first pass, no watermark (every published week, as before)"),
                       ("after_new_week", "after the new week (weeks its files can change)"),
                       ("rerun", "rerun of that pass")):
        p = figures.get(key)
        if p:
            weeks = p["weeks"]
            weeks = f" ({weeks[0]})" if len(weeks) == 1 else f" ({weeks[0]}..{weeks[-1]})" if weeks else ""
            lines.append(f"    {label:<62} {p['revised']:>3} revised{weeks}, {p['untouched']} untouched, "
                         f"{p['new_revisions']} new revision(s), {p['seconds']:.1f} s")
    return lines
