"""Formatter API (normalized events, Formatter base) and the built-in formatters."""
