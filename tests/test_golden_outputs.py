"""The whole pipeline's outputs are unchanged: `python -m lensan_dev.golden compare` runs generate → land →
dbt seed + build → gate + publish through the `lensan` command line, in a temporary LENSAN_HOME with an
embedded warehouse of its own, and compares the mart checksums and the export files with
tests/golden/demo_outputs.json (~80 s). After an intended change of outputs, record them again with
`make golden-record`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lensan.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def test_demo_outputs_equal_the_golden_record():
    result = subprocess.run([sys.executable, "-m", "lensan_dev.golden", "compare"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "identical" in result.stdout
