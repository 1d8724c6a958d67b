"""lightspeed-stack 0.7.1's src/version.py is not in its wheel: its version."""

__version__ = "0.7.1"
