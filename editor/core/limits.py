"""Limits that keep a damaged or crafted project from hanging the app or filling the disk.

The project length limit bounds every position and length a project file may
hold, and every range that rendering and export will write. The default (24
hours) is far beyond real sessions; a user who needs more raises it with the
``SEEDWAVE_MAX_PROJECT_HOURS`` environment variable or :func:`set_max_project_hours`
(the settings dialog's value).
"""

from __future__ import annotations

import os

from .errors import SeedwaveError

DEFAULT_MAX_HOURS = 24.0
ENV = "SEEDWAVE_MAX_PROJECT_HOURS"
_override: float | None = None


def max_project_seconds() -> float:
    """The project length limit in seconds."""
    if _override is not None:
        return _override * 3600.0
    raw = os.environ.get(ENV)
    if raw:
        try:
            hours = float(raw)
            if 0 < hours < 1e6:
                return hours * 3600.0
        except ValueError:
            pass
    return DEFAULT_MAX_HOURS * 3600.0


def set_max_project_hours(hours: float | None) -> None:
    """Raise or lower the limit for this process (``None``: back to the default/environment)."""
    global _override
    if hours is not None and not 0 < hours < 1e6:
        raise ValueError("the project length limit is a positive number of hours")
    _override = hours


def max_project_frames(rate: int) -> int:
    return int(max_project_seconds() * rate)


def check_range(frames: int, rate: int, what: str = "the range") -> None:
    """Refuse (before anything is written) a render or export longer than the limit."""
    if frames > max_project_frames(rate):
        hours = max_project_seconds() / 3600
        raise SeedwaveError(f"{what} is {frames / rate / 3600:.3g} h long, more than the project length limit "
                            f"({hours:g} h); raise it with {ENV} if this is intended")
