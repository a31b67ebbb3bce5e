"""Scores over rows already loaded: trending; pure functions, no I/O."""
