"""Byte counts as short text for the user."""

from __future__ import annotations


def human_size(n: int) -> str:
    """``n`` bytes as a short text: 0 B, 812 KB, 1.4 GB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - the loop always returns
