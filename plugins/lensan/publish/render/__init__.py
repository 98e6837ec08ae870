"""Rendering of published reports: one module per output format (csv, json, xlsx, html, charts) and the
number / text forms they share (formatting). Pure: rows in, bytes or text out; nothing here writes files."""
