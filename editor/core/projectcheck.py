"""Checking a project description (from a project file or a recovery journal)
before anything is built from it.

A project file is input like any other: it may be damaged, truncated, written by
a buggy tool or crafted. :func:`check_project_dict` walks the whole description
once and raises ``ValueError`` with a short, plain reason ("track 2, clip 1:
gain_db is not a finite number") for anything out of place: unknown fields,
wrong types, numbers that are not finite or not in a sane range, segments
outside their blocks, clip windows outside their audio, and positions or lengths
beyond the project length limit (:mod:`editor.core.limits`). Nothing is loaded
half-way: callers check first, then build.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from .limits import max_project_frames, max_project_seconds

MAX_CHANNELS = 64
MAX_RATE = 1_536_000
MAX_NAME = 4096
MAX_GAIN_DB = 100.0  # far beyond any real setting; gains and samples together stay finite in float32
MAX_ITEMS = 1_000_000
#: Fields older versions wrote and this one reads past (track heights are view state now).
LEGACY_TRACK_KEYS = frozenset({"height"})
HUGE = 1 << 256  # whole numbers beyond this are not even compared with the limits


@cache
def _known_keys() -> dict[str, frozenset[str]]:
    """The fields this version writes, at each level (so new model fields are known at once)."""
    from .model import Clip, Marker, Project, Track
    from .sequence import AudioSeq
    from .serialize import project_to_dict

    clip = Clip(AudioSeq.silence(1, 1), 0)
    d = project_to_dict(Project(tracks=(Track("t", (clip,)),), markers=(Marker(0),)), lambda b: None)
    t = d["tracks"][0]
    c = t["clips"][0]
    return {
        "project": frozenset(d) | {"steps"},
        "track": frozenset(t) | LEGACY_TRACK_KEYS,
        "clip": frozenset(c) | {"fade_in_offset", "fade_out_offset"},
        "audio": frozenset(c["audio"]),
        "marker": frozenset(d["markers"][0]),
    }


def _where(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _keys(obj: Any, kind: str, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{_where(where) or 'the project'}: is not a {kind} description")
    extra = set(obj) - _known_keys()[kind]
    if extra:
        name = sorted(map(str, extra))[0]
        raise ValueError(f"{_where(where, kind) if where else kind}: unknown field {name[:40]!r}")
    return obj


def _int(obj: dict[str, Any], key: str, where: str, lo: int, hi: int, default: Any = ...) -> int:
    v = obj.get(key, default)
    if v is ...:
        raise ValueError(f"{_where(where, key)} is missing")
    if type(v) is not int:
        raise ValueError(f"{_where(where, key)} is not a whole number")
    if not lo <= v <= hi:
        raise ValueError(f"{_where(where, key)} = {_short(v)} is outside {lo}..{hi}")
    return v


def _num(obj: dict[str, Any], key: str, where: str, lo: float, hi: float, default: Any = ...) -> float:
    v = obj.get(key, default)
    if v is ...:
        raise ValueError(f"{_where(where, key)} is missing")
    if type(v) is float and v == -math.inf and lo == -MAX_GAIN_DB:
        return v  # a gain of -inf dB is silence, and the app can set it
    if type(v) not in (int, float) or not math.isfinite(v):
        raise ValueError(f"{_where(where, key)} is not a finite number")
    if not lo <= v <= hi:
        raise ValueError(f"{_where(where, key)} = {_short(v)} is outside {lo:g}..{hi:g}")
    return float(v)


def _str(obj: dict[str, Any], key: str, where: str, default: Any = ..., limit: int = MAX_NAME) -> str:
    v = obj.get(key, default)
    if v is ...:
        raise ValueError(f"{_where(where, key)} is missing")
    if not isinstance(v, str) or len(v) > limit:
        raise ValueError(f"{_where(where, key)} is not a text of at most {limit} characters")
    return v


def _list(obj: dict[str, Any], key: str, where: str, default: Any = ...) -> list[Any]:
    v = obj.get(key, default)
    if v is ...:
        raise ValueError(f"{_where(where, key)} is missing")
    if not isinstance(v, list) or len(v) > MAX_ITEMS:
        raise ValueError(f"{_where(where, key)} is not a list")
    return v


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 24 else s[:20] + "…"


def check_project_dict(d: Any, blocks: dict[str, tuple[Any, Any]], max_frames: int | None = None) -> None:
    """Raise ``ValueError`` unless ``d`` is a sound project description.

    ``blocks`` maps each block uid the description may use to its (channels,
    frames); a segment naming any other uid, or frames outside its block, is an
    error. ``max_frames`` overrides the project length limit (at the project's rate).
    """
    p = _keys(d, "project", "")
    rate = _int(p, "sample_rate", "", 1000, MAX_RATE)
    limit = max_frames if max_frames is not None else max_project_frames(rate)

    def pos_check(v: int, what: str) -> None:
        if v > limit:
            raise ValueError(f"{what} lies beyond the project length limit ({hours_limit()})")

    _str(p, "name", "", "Untitled")
    _num(p, "master_gain_db", "", -MAX_GAIN_DB, MAX_GAIN_DB, 0.0)
    for i, m in enumerate(_list(p, "markers", "", [])):
        w = f"marker {i + 1}"
        m = _keys(m, "marker", w)
        pos_check(_int(m, "position", w, 0, HUGE), w)
        _str(m, "name", w, "")
        _str(m, "id", w, limit=200)
    steps = _list(p, "steps", "", [])
    for i, s in enumerate(steps):
        if not isinstance(s, dict):
            raise ValueError(f"step {i + 1}: is not a step description")
    for ti, t in enumerate(_list(p, "tracks", "")):
        tw = f"track {ti + 1}"
        t = _keys(t, "track", tw)
        _str(t, "name", tw)
        _str(t, "id", tw, limit=200)
        _str(t, "colour", tw, "#4f9dde", limit=64)
        _num(t, "gain_db", tw, -MAX_GAIN_DB, MAX_GAIN_DB, 0.0)
        _num(t, "pan", tw, -1.0, 1.0, 0.0)
        for key in ("mute", "solo"):
            if not isinstance(t.get(key, False), bool):
                raise ValueError(f"{_where(tw, key)} is not true or false")
        _int(t, "height", tw, 0, 100_000, 120)
        for ci, c in enumerate(_list(t, "clips", tw)):
            cw = f"{tw}, clip {ci + 1}"
            c = _keys(c, "clip", cw)
            _str(c, "id", cw, limit=200)
            _str(c, "name", cw, "")
            frames = _check_audio(c.get("audio"), blocks, cw, limit)
            position = _int(c, "position", cw, 0, HUGE)
            pos_check(position, cw)
            offset = _int(c, "offset", cw, 0, HUGE)
            length = _int(c, "length", cw, 1, HUGE)
            if offset + length > frames:
                raise ValueError(f"{cw}: its window {offset}+{length} lies outside its {frames} frames of audio")
            pos_check(position + length, cw)
            _num(c, "gain_db", cw, -MAX_GAIN_DB, MAX_GAIN_DB)
            for key in ("fade_in", "fade_out", "fade_in_offset", "fade_out_offset"):
                _int(c, key, cw, 0, limit, 0)
            from .model import FadeShape

            shapes = {s.value for s in FadeShape}
            for key in ("fade_in_shape", "fade_out_shape"):
                if not isinstance(c.get(key), str) or c.get(key) not in shapes:
                    raise ValueError(f"{_where(cw, key)} is not a known fade shape")


def hours_limit() -> str:
    return f"{max_project_seconds() / 3600:g} h; raise it with SEEDWAVE_MAX_PROJECT_HOURS"


def _check_audio(a: Any, blocks: dict[str, tuple[Any, Any]], where: str, limit: int) -> int:
    w = _where(where, "audio")
    a = _keys(a, "audio", w)
    channels = _int(a, "channels", w, 1, MAX_CHANNELS)
    total = 0
    for si, seg in enumerate(_list(a, "segments", w)):
        sw = f"{w}, segment {si + 1}"
        if not isinstance(seg, list) or not seg:
            raise ValueError(f"{sw}: is not a segment")
        if seg[0] == "zero":
            if len(seg) != 2 or type(seg[1]) is not int or seg[1] < 1:
                raise ValueError(f"{sw}: is not a length of silence")
            if seg[1] > limit:
                raise ValueError(f"{sw}: silence longer than the project length limit ({hours_limit()})")
            total += seg[1]
        else:
            if len(seg) != 3 or not isinstance(seg[0], str) or type(seg[1]) is not int or type(seg[2]) is not int:
                raise ValueError(f"{sw}: is not a segment")
            if seg[0] not in blocks:
                raise ValueError(f"{sw}: names a block that is not in the file")
            ch, frames = blocks[seg[0]]
            if type(frames) is not int or type(ch) is not int:
                raise ValueError(f"{sw}: its block is damaged")
            if ch != channels:
                raise ValueError(f"{sw}: its block has {ch} channels, the clip {channels}")
            if not 0 <= seg[1] < seg[2] <= frames:
                raise ValueError(f"{sw}: frames {_short(seg[1])}..{_short(seg[2])} lie outside its block "
                                 f"of {frames} frames")
            total += seg[2] - seg[1]
        if total > limit:
            raise ValueError(f"{w}: is longer than the project length limit ({hours_limit()})")
    return total
