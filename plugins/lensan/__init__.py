"""lensan: the monitoring warehouse of Programme 1034."""

__version__ = "0.1.0"
