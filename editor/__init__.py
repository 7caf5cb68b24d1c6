"""Seedwave: a desktop audio editor."""

__version__ = "0.1.0"
