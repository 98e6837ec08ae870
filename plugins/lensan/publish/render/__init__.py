"""Rendering of published reports: one module per output format."""
