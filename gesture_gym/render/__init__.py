"""Stick-figure frames and plots (matplotlib, imported lazily by callers)."""
