"""Seeded, reproducible sample raw files (S1–S4 of docs/raw_formats.md) for demos and tests.

One simulated population per reporting unit (a district before the 1 July 2025 reform, a
commune/ward after it): households that get trained week by week, open shops on postmart.vn and/or
voso.vn (some on both, with the same phone), list products and receive orders. From that population
the generator writes what the warehouse would receive:

* ``weekly_form``        one appendix-02 workbook per unit and week, typed by a person (edited labels,
                         numbers as text, blanks, resends), values close to the truth;
* ``household_register`` one snapshot per unit for the last generated week of each map;
* ``postmart``           daily CSV extracts per entity;
* ``voso``               daily gzip JSON Lines extracts per entity (one delivered order repeated as
                         returned in a later day's file, at least one per unit when the window allows).

Everything is derived from ``random.Random`` instances seeded with the seed and the unit / week /
purpose, so the same arguments give byte-identical files (XLSX zip entries and core properties
fixed, gzip mtime 0). Each file's mtime is its simulated delivery time. The generator's ground
truth goes to ``<home>/generated/truth.json`` (tests only; the pipeline never reads it).

The forms agree with the platform data up to typing noise inside dbt's reconciliation tolerance,
except a few units of the last week made divergent on purpose (`planted`), recorded in
``<home>/generated/planted_divergences.json`` for `lensan demo` to compare with the warnings raised.
The sample rows of the seeds ref_bases.csv / ref_targets.csv are derived from the same population
(`python -m lensan_dev.generate.bases`; a test keeps the committed seeds equal to its output).

This package's public API is what it exports here: `generate()`, `GenerateSummary` and
`provinces_for_map()`; `lensan_dev.generate.scale.generate_national()` writes one national week.
Modules: `population` (households, shops, products, orders), `truth` (what the warehouse should
compute), `forms` (S1), `register` (S2), `platforms` (S3/S4 rows), `delivery` (file names, delivery
times, mtimes), `encoding` (byte-identical XLSX/CSV/gzip), `planted` (divergences on purpose), `bases`
(the seeds' sample rows), `people`, `lookups`, `common`, `api`, `scale`.
"""

from lensan_dev.generate.api import GenerateSummary, generate
from lensan_dev.generate.lookups import provinces_for_map

__all__ = ["GenerateSummary", "generate", "provinces_for_map"]
