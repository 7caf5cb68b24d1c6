"""Formatting and parsing times for display: hh:mm:ss.mmm, seconds, or samples."""

from __future__ import annotations

import re

from .errors import SeedwaveError


def format_time(seconds: float, step: float | None = None) -> str:
    """A compact label; ``step`` (the tick interval) decides how many decimals show."""
    neg = seconds < 0
    seconds = abs(seconds)
    decimals = 0
    if step is not None:
        for d, lim in ((4, 0.001), (3, 0.01), (2, 0.1), (1, 1.0)):
            if step < lim:
                decimals = d
                break
    h = int(seconds // 3600)
    m = int(seconds % 3600 // 60)
    s = seconds % 60
    sec = f"{s:0{3 + decimals if decimals else 2}.{decimals}f}"
    out = f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}"
    return ("-" if neg else "") + out


def format_hms(frames: int, rate: int) -> str:
    """hh:mm:ss.mmm for a frame position."""
    return _hms_ms(int(round(frames * 1000 / rate)))


def _hms_ms(total_ms: int) -> str:
    h, rest = divmod(total_ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


TIME_FORMATS = ("hms", "samples")  # the choices of the selection bar's time format


def format_frames(frames: int, rate: int, unit: str = "hms") -> str:
    """A frame count (position or length) in the time format the user chose."""
    return str(int(frames)) if unit == "samples" else format_hms(frames, rate)


def format_span(start: int, stop: int, rate: int, unit: str = "hms") -> tuple[str, str, str]:
    """Start, end and length of a range as shown side by side: in hh:mm:ss.mmm the length is
    end minus start *as shown* (both rounded to the millisecond), so it never reads 0 while
    start and end differ, nor disagrees with them by a millisecond."""
    if unit == "samples":
        return str(start), str(stop), str(stop - start)
    a, b = (int(round(f * 1000 / rate)) for f in (start, stop))
    return _hms_ms(a), _hms_ms(b), _hms_ms(b - a)


_HMS = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)\s*$")


def parse_time(text: str, rate: int, unit: str = "hms") -> int:
    """Frames from user text: ``hh:mm:ss.mmm`` / ``mm:ss`` / seconds, or samples."""
    text = text.strip()
    if unit == "samples":
        try:
            value = int(text.replace(",", "").replace("_", ""))
        except ValueError:
            raise SeedwaveError(f"{text!r} is not a number of samples") from None
        if value < 0:
            raise SeedwaveError("a time cannot be negative")
        return value
    m = _HMS.match(text)
    if not m:
        raise SeedwaveError(f"{text!r} is not a time (use hh:mm:ss.mmm, mm:ss or seconds)")
    a, b, c = m.groups()
    if a is not None and b is not None:
        seconds = int(a) * 3600 + int(b) * 60 + float(c)
    elif a is not None:
        seconds = int(a) * 60 + float(c)
    else:
        seconds = float(c)
    return int(round(seconds * rate))
