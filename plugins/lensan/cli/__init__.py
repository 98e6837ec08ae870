"""The `lensan` command line: one module per command."""
