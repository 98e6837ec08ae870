"""Measurements in a fresh interpreter (its own ru_maxrss): the child prints its JSON result after
RESULT_PREFIX, the parent reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

RESULT_PREFIX = "BENCH_RESULT "


def emit_result(value) -> None:
    """In the child: hand `value` back to the parent (the line run_child looks for)."""
    print(RESULT_PREFIX + json.dumps(value, default=str, ensure_ascii=False), flush=True)


def run_child(cmd: list[str], env: dict, what: str, timeout: float | None = None,
              echo: Callable[[str], bool] = lambda line: False, say: Callable[[str], None] = print) -> dict:
    """Run a measurement in a fresh interpreter (its own ru_maxrss) and return the JSON it prints
    after RESULT_PREFIX; lines for which `echo` is true are passed to `say` as they come."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result, tail = None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
        else:
            tail = (tail + [line])[-40:]
            if echo(line):
                say(line.rstrip())
    rc = proc.wait(timeout=timeout)
    if rc != 0 or result is None:
        raise RuntimeError(f"{what} failed (exit {rc}):\n{''.join(tail)}")
    return result


def run_step(step: str, home: Path, args: dict, timeout: float | None = None, echo: bool = True) -> dict:
    """One step of this benchmark in a fresh interpreter; return its JSON result."""
    env = dict(os.environ, LENSAN_HOME=str(home))
    cmd = [sys.executable, "-m", "lensan_dev.bench", "--step", step, "--home", str(home),
           "--step-args", json.dumps(args)]
    return run_child(cmd, env, f"bench step {step}", timeout,
                     echo=lambda line: echo and line.startswith("  generate: "))
