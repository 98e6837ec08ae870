"""Reading an Airflow task's context: the moment a run reports on, its params, its gate run ids."""

from __future__ import annotations

import datetime as dt


def run_moment(context) -> dt.datetime:
    """The run's logical date; asset-triggered runs have none and use their `run_after`.
    Never the wall clock: a re-run or backfill reports on the same period."""
    return context.get("logical_date") or context["dag_run"].run_after


def param(context, name: str):
    """A DAG param of this run (None when unset)."""
    return (context.get("params") or {}).get(name)


def gate_run_id(context, *parts: str) -> str:
    """'<dag_id>__<dag run id>[__<part>…]': the ops.gate_results key of a gate run inside a DAG run,
    so a retried task upserts its own row."""
    return "__".join([context["dag"].dag_id, context["run_id"], *parts])
