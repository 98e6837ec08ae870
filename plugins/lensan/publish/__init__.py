"""Publish: the weekly / monthly / 6-monthly / annual reports — readers of the marts, immutable
numbered revisions and their diffs, rendering (CSV, XLSX, JSON, HTML, charts), the publication log."""
