"""`python -m lensan_dev.bench` (what bench/run and `lensan bench` run; the steps' child processes too)."""

import sys

from lensan_dev.bench.run import main

sys.exit(main())
