"""Publish: the weekly / monthly / 6-monthly / annual reports as immutable numbered revisions.

service    publish_weekly / publish_period: one run, every scope, index.json and the summary page
readers    what a run reads from the marts (report rows, completeness, product types, deadline, landed files)
rows       the report rows as published (cleaning, gate flags, sections, per-province attainment)
template   the wording of the appendix-02 template and `Period` (title, headings, file names of a period)
revisions  rev-<n> folders: numbering, content hash, changes against the previous revision, atomic write
records    the publication log: ops.publications and ops.published_values
render/    one module per output format: csv, json, xlsx, html (summary page), charts; formatting (shared text)
"""
