"""Spectral selections: regions of the time x frequency plane, and their STFT masks.

A :class:`SpectralSelection` is what the user selects in the spectrogram view: an
ordered list of shapes, each added to or subtracted from what came before, plus the
width of the soft edge in time and in frequency. Shapes are plain frozen data in
seconds and Hz, so a selection survives zooming, scrolling, undo and saving, and
does not depend on any STFT:

* :class:`Box` — a rectangle (time span x band), the usual drag.
* :class:`Polygon` — a lasso outline.
* :class:`Stroke` — a brush stroke: a polyline swept by an ellipse of
  ``radius_s`` x ``radius_hz``.
* :class:`Painted` — cells painted on a grid of the caller's choice (any
  resolution), kept sparse as a list of (row, column) cells.
* :class:`Harmonic` — a fundamental tracked over time and its overtones (see
  :func:`editor.core.spectral_track.track_harmonic`).

:meth:`SpectralSelection.rasterise` turns a selection into a soft mask in [0, 1]
over the frames and bins of a given :class:`StftGrid`: hard shapes are combined
first (add = union, subtract = difference), then the edge is feathered outwards
with a raised-cosine ramp over ``edge_s`` seconds and ``edge_hz`` Hz.

Times are seconds from the start of whatever audio is processed; a selection made
on the project timeline is moved with :meth:`SpectralSelection.shifted`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

__all__ = ["Box", "Harmonic", "Painted", "Polygon", "SpectralSelection", "StftGrid", "Stroke"]


@dataclass(frozen=True)
class StftGrid:
    """The STFT a mask is drawn on: frame ``k`` is centred on sample ``k * hop``;
    bin ``j`` is ``j * sample_rate / n_fft`` Hz."""

    sample_rate: int
    n_fft: int = 2048
    hop: int = 512

    @classmethod
    def for_rate(cls, sample_rate: int, seconds: float = 0.046, overlap: int = 4) -> StftGrid:
        """A power-of-two window of about ``seconds`` and a hop of 1/``overlap`` of it."""
        n = 1 << max(5, int(round(math.log2(max(1e-3, seconds) * sample_rate))))
        return cls(int(sample_rate), n, n // overlap)

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frame_seconds(self) -> float:
        return self.hop / self.sample_rate

    @property
    def bin_hz(self) -> float:
        return self.sample_rate / self.n_fft

    def n_frames(self, frames: int) -> int:
        """Frames of the STFT of ``frames`` samples (centres 0, hop, ... up to the last sample)."""
        return max(1, (max(0, frames - 1)) // self.hop + 1)

    def times(self, k0: int = 0, k1: int | None = None) -> np.ndarray:
        k1 = k0 + 1 if k1 is None else k1
        return np.arange(k0, k1) * self.frame_seconds

    def freqs(self) -> np.ndarray:
        return np.arange(self.n_bins) * self.bin_hz

    def frame_range(self, start_s: float, end_s: float, frames: int | None = None) -> tuple[int, int]:
        """Frames ``[k0, k1)`` whose centres' cells (± half a hop) overlap ``[start_s, end_s]``."""
        k0 = int(math.floor(start_s / self.frame_seconds + 0.5))
        k1 = int(math.ceil(end_s / self.frame_seconds - 0.5)) + 1
        k0 = max(0, k0)
        if frames is not None:
            k1 = min(k1, self.n_frames(frames))
        return k0, max(k0, k1)

    def sample_span(self, k0: int, k1: int) -> tuple[int, int]:
        """Samples ``[a, b)`` that frames ``[k0, k1)`` touch (their overlap-add neighbourhood)."""
        return k0 * self.hop - self.n_fft // 2, (k1 - 1) * self.hop + self.n_fft // 2 + 1


# --------------------------------------------------------------------------- shapes
def _cells(grid: StftGrid, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre times (column vector) and frequencies (row vector) of the cells."""
    return grid.times(k0, k1)[:, None], grid.freqs()[None, :]


@dataclass(frozen=True)
class Box:
    """Time span ``[start, end]`` (s) x band ``[low_hz, high_hz]``: every cell it overlaps."""

    start: float
    end: float
    low_hz: float = 0.0
    high_hz: float = float("inf")
    kind: ClassVar[str] = "box"

    def bounds(self) -> tuple[float, float, float, float]:
        return self.start, self.end, self.low_hz, self.high_hz

    def raster(self, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
        t, f = _cells(grid, k0, k1)
        ht, hf = grid.frame_seconds / 2, grid.bin_hz / 2
        in_t = (t + ht > self.start) & (t - ht < self.end) if self.end > self.start else np.abs(t - self.start) <= ht
        lo, hi = min(self.low_hz, self.high_hz), max(self.low_hz, self.high_hz)
        in_f = (f + hf > lo) & (f - hf < hi) if hi > lo else np.abs(f - lo) <= hf
        return in_t & in_f


def _inside_polygon(t: np.ndarray, f: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Even-odd rule for points (t, f) (broadcast) in the polygon ``pts`` (n, 2)."""
    inside = np.zeros(np.broadcast(t, f).shape, bool)
    n = len(pts)
    for i in range(n):
        (t1, f1), (t2, f2) = pts[i], pts[(i + 1) % n]
        if f1 == f2:
            continue
        crosses = (f1 > f) != (f2 > f)
        t_at = t1 + (f - f1) * (t2 - t1) / (f2 - f1)
        inside ^= crosses & (t < t_at)
    return inside


@dataclass(frozen=True)
class Polygon:
    """A closed outline (lasso) of ``(t_seconds, f_hz)`` points; cells whose centre is inside."""

    points: tuple[tuple[float, float], ...]
    kind: ClassVar[str] = "polygon"

    def bounds(self) -> tuple[float, float, float, float]:
        p = np.asarray(self.points, float)
        return float(p[:, 0].min()), float(p[:, 0].max()), float(p[:, 1].min()), float(p[:, 1].max())

    def raster(self, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
        t, f = _cells(grid, k0, k1)
        if len(self.points) < 3:
            return np.zeros((k1 - k0, grid.n_bins), bool)
        return _inside_polygon(t, f, np.asarray(self.points, float))


@dataclass(frozen=True)
class Stroke:
    """A brush stroke: the polyline ``points`` swept by an ellipse of ``radius_s`` x ``radius_hz``
    (a single point is a dab)."""

    points: tuple[tuple[float, float], ...]
    radius_s: float
    radius_hz: float
    kind: ClassVar[str] = "stroke"

    def bounds(self) -> tuple[float, float, float, float]:
        p = np.asarray(self.points, float)
        return (float(p[:, 0].min() - self.radius_s), float(p[:, 0].max() + self.radius_s),
                float(max(0.0, p[:, 1].min() - self.radius_hz)), float(p[:, 1].max() + self.radius_hz))

    def raster(self, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
        t, f = _cells(grid, k0, k1)
        # Normalised units: the brush is a unit circle; at least half a cell so a thin brush still paints.
        rs = max(self.radius_s, grid.frame_seconds / 2)
        rf = max(self.radius_hz, grid.bin_hz / 2)
        p = np.asarray(self.points, float) / np.array([rs, rf])
        u, v = t / rs, f / rf
        out = np.zeros((k1 - k0, grid.n_bins), bool)
        segs = [(p[0], p[0])] if len(p) == 1 else list(zip(p[:-1], p[1:]))
        for a, b in segs:
            d = b - a
            den = float(d @ d)
            s = np.clip(((u - a[0]) * d[0] + (v - a[1]) * d[1]) / den, 0.0, 1.0) if den > 0 else 0.0
            out |= (u - a[0] - s * d[0]) ** 2 + (v - a[1] - s * d[1]) ** 2 <= 1.0
        return out


@dataclass(frozen=True)
class Painted:
    """Cells painted on a regular grid: row ``r`` is time ``start + r * step_s``, column ``c`` is
    ``low_hz + c * step_hz``; each painted cell covers ``[t, t + step_s) x [f, f + step_hz)``."""

    start: float
    step_s: float
    low_hz: float
    step_hz: float
    cells: tuple[tuple[int, int], ...]
    kind: ClassVar[str] = "painted"

    @classmethod
    def from_array(cls, mask: np.ndarray, start: float, step_s: float, low_hz: float, step_hz: float) -> Painted:
        """From a boolean array (time rows x frequency columns)."""
        rows, cols = np.nonzero(np.asarray(mask, bool))
        return cls(float(start), float(step_s), float(low_hz), float(step_hz),
                   tuple(zip(rows.tolist(), cols.tolist())))

    def bounds(self) -> tuple[float, float, float, float]:
        if not self.cells:
            return self.start, self.start, self.low_hz, self.low_hz
        c = np.asarray(self.cells)
        return (self.start + c[:, 0].min() * self.step_s, self.start + (c[:, 0].max() + 1) * self.step_s,
                self.low_hz + c[:, 1].min() * self.step_hz, self.low_hz + (c[:, 1].max() + 1) * self.step_hz)

    def raster(self, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
        out = np.zeros((k1 - k0, grid.n_bins), bool)
        if not self.cells:
            return out
        c = np.asarray(self.cells, int)
        r0, c0 = c.min(axis=0)
        dense = np.zeros(tuple(c.max(axis=0) - c.min(axis=0) + 1), bool)
        dense[c[:, 0] - r0, c[:, 1] - c0] = True
        # Every STFT cell whose centre lies in a painted cell ...
        rows = np.floor((grid.times(k0, k1) - self.start) / self.step_s).astype(int) - r0
        cols = np.floor((grid.freqs() - self.low_hz) / self.step_hz).astype(int) - c0
        ok_r = (rows >= 0) & (rows < dense.shape[0])
        ok_c = (cols >= 0) & (cols < dense.shape[1])
        sub = dense[np.clip(rows, 0, dense.shape[0] - 1)][:, np.clip(cols, 0, dense.shape[1] - 1)]
        out |= sub & ok_r[:, None] & ok_c[None, :]
        # ... and, for painted cells smaller than an STFT cell, the STFT cell nearest each painted cell's centre.
        k = np.rint((self.start + (c[:, 0] + 0.5) * self.step_s) / grid.frame_seconds).astype(int) - k0
        j = np.rint((self.low_hz + (c[:, 1] + 0.5) * self.step_hz) / grid.bin_hz).astype(int)
        keep = (k >= 0) & (k < k1 - k0) & (j >= 0) & (j < grid.n_bins)
        out[k[keep], j[keep]] = True
        return out


@dataclass(frozen=True)
class Harmonic:
    """A fundamental ``f0[i]`` Hz at ``times[i]`` s (NaN where unvoiced) and its overtones:
    partials 1 .. ``n_harmonics`` (below ``max_hz``), each ``width_hz`` wide either side."""

    times: tuple[float, ...]
    f0: tuple[float, ...]
    n_harmonics: int = 8
    width_hz: float = 30.0
    max_hz: float = float("inf")
    kind: ClassVar[str] = "harmonic"

    def bounds(self) -> tuple[float, float, float, float]:
        f = np.asarray(self.f0, float)
        ok = np.isfinite(f)
        if not ok.any():
            return 0.0, 0.0, 0.0, 0.0
        t = np.asarray(self.times, float)[ok]
        top = min(self.max_hz, float(f[ok].max()) * self.n_harmonics)
        return float(t.min()), float(t.max()), max(0.0, float(f[ok].min()) - self.width_hz), top + self.width_hz

    def raster(self, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
        out = np.zeros((k1 - k0, grid.n_bins), bool)
        t = np.asarray(self.times, float)
        f = np.asarray(self.f0, float)
        if t.size == 0:
            return out
        tc = grid.times(k0, k1)
        # f0 at each frame centre: nearest track point within one track step (NaN = not selected).
        idx = np.clip(np.searchsorted(t, tc), 1, max(1, t.size - 1)) if t.size > 1 else np.zeros(tc.size, int)
        if t.size > 1:
            left = idx - 1
            w = np.clip((tc - t[left]) / np.maximum(t[idx] - t[left], 1e-12), 0.0, 1.0)
            f_at = f[left] * (1 - w) + f[idx] * w
            nan_l, nan_r = ~np.isfinite(f[left]), ~np.isfinite(f[idx])
            f_at = np.where(nan_l & ~nan_r, f[idx], np.where(nan_r & ~nan_l, f[left], f_at))
            step = float(np.median(np.diff(t))) if t.size > 1 else grid.frame_seconds
            f_at[(tc < t[0] - step / 2) | (tc > t[-1] + step / 2)] = np.nan
        else:
            f_at = np.where(np.abs(tc - t[0]) <= grid.frame_seconds / 2, f[0], np.nan)
        freqs = grid.freqs()
        half = max(self.width_hz, grid.bin_hz / 2)
        for i, f0 in enumerate(f_at):
            if not np.isfinite(f0) or f0 <= 0:
                continue
            for h in range(1, self.n_harmonics + 1):
                fh = h * f0
                if fh > self.max_hz or fh > freqs[-1] + half:
                    break
                out[i] |= np.abs(freqs - fh) <= half
        return out


Shape = Box | Polygon | Stroke | Painted | Harmonic
_KINDS: dict[str, type] = {c.kind: c for c in (Box, Polygon, Stroke, Painted, Harmonic)}


def _shape_to_dict(s: Shape) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": s.kind}
    for fld in fields(s):
        name = fld.name
        v = getattr(s, name)
        if isinstance(v, float) and math.isinf(v):
            v = None  # JSON has no infinity; None means "unbounded"
        elif isinstance(v, tuple):
            v = [list(x) if isinstance(x, tuple) else (None if isinstance(x, float) and math.isnan(x) else x)
                 for x in v]
        d[name] = v
    return d


def _shape_from_dict(d: dict[str, Any]) -> Shape:
    cls = _KINDS.get(str(d.get("kind")))
    if cls is None:
        raise ValueError(f"unknown selection shape {d.get('kind')!r}")
    kw: dict[str, Any] = {}
    for fld in fields(cls):
        name = fld.name
        if name not in d:
            continue
        v = d[name]
        if v is None:
            v = float("inf")
        elif isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else (float("nan") if x is None else x) for x in v)
        kw[name] = v
    return cls(**kw)


# --------------------------------------------------------------------------- the selection
@dataclass(frozen=True)
class SelectionPart:
    """One shape and whether it adds to (``"add"``) or subtracts from (``"subtract"``) the selection."""

    shape: Shape
    mode: str = "add"


def _feather(hard: np.ndarray, grid: StftGrid, edge_s: float, edge_hz: float) -> np.ndarray:
    """Raised-cosine ramp outwards from the hard mask: 1 inside, 0 beyond the edge widths."""
    if not hard.any():
        return hard.astype(np.float32)
    if edge_s <= 0 and edge_hz <= 0:
        return hard.astype(np.float32)
    from scipy.ndimage import distance_transform_edt

    big = 1e6  # an edge of width 0 in one axis: any step along it is "beyond the edge"
    st = grid.frame_seconds / edge_s if edge_s > 0 else big
    sf = grid.bin_hz / edge_hz if edge_hz > 0 else big
    d = distance_transform_edt(~hard, sampling=(st, sf))
    ramp = np.where(d < 1.0, 0.5 + 0.5 * np.cos(np.pi * np.clip(d, 0.0, 1.0)), 0.0)
    return np.where(hard, 1.0, ramp).astype(np.float32)


@dataclass(frozen=True)
class SpectralSelection:
    """Shapes combined in order (add/subtract), with soft edges ``edge_s`` x ``edge_hz`` (outwards)."""

    parts: tuple[SelectionPart, ...] = ()
    edge_s: float = 0.0
    edge_hz: float = 0.0
    version: ClassVar[int] = 1

    # -- building -----------------------------------------------------------
    @classmethod
    def box(cls, start: float, end: float, low_hz: float = 0.0, high_hz: float = float("inf"),
            edge_s: float = 0.0, edge_hz: float = 0.0) -> SpectralSelection:
        return cls((SelectionPart(Box(start, end, low_hz, high_hz)),), edge_s, edge_hz)

    def add(self, shape: Shape) -> SpectralSelection:
        return replace(self, parts=self.parts + (SelectionPart(shape, "add"),))

    def subtract(self, shape: Shape) -> SpectralSelection:
        return replace(self, parts=self.parts + (SelectionPart(shape, "subtract"),))

    def with_edges(self, edge_s: float, edge_hz: float) -> SpectralSelection:
        return replace(self, edge_s=max(0.0, float(edge_s)), edge_hz=max(0.0, float(edge_hz)))

    def shifted(self, dt: float) -> SpectralSelection:
        """The same selection ``dt`` seconds later (negative: earlier), e.g. timeline -> clip time."""
        return replace(self, parts=tuple(SelectionPart(_shift(p.shape, dt), p.mode) for p in self.parts))

    @property
    def empty(self) -> bool:
        return not any(p.mode == "add" for p in self.parts)

    # -- geometry -----------------------------------------------------------
    def bounds(self, with_edges: bool = True) -> tuple[float, float, float, float]:
        """``(start_s, end_s, low_hz, high_hz)`` of everything added (what the status bar shows)."""
        adds = [p.shape.bounds() for p in self.parts if p.mode == "add"]
        if not adds:
            return 0.0, 0.0, 0.0, 0.0
        b = np.asarray(adds, float)
        t0, t1, f0, f1 = b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()
        if with_edges:
            t0, t1, f0, f1 = t0 - self.edge_s, t1 + self.edge_s, max(0.0, f0 - self.edge_hz), f1 + self.edge_hz
        return float(t0), float(t1), float(f0), float(f1)

    def frame_range(self, grid: StftGrid, frames: int | None = None) -> tuple[int, int]:
        """STFT frames ``[k0, k1)`` the (feathered) selection can touch."""
        t0, t1, _f0, _f1 = self.bounds()
        k0, k1 = grid.frame_range(t0, t1, frames)
        return k0, k1

    def rasterise(self, grid: StftGrid, frames: int | None = None) -> tuple[int, np.ndarray]:
        """``(k0, mask)``: the soft mask (float32 in [0, 1], frames x bins) on frames ``k0 ..``
        of ``grid``, covering every frame the selection touches (none: an empty mask).
        ``frames``: length of the audio in samples, to clip at its end."""
        if self.empty:
            return 0, np.zeros((0, grid.n_bins), np.float32)
        k0, k1 = self.frame_range(grid, frames)
        if k1 <= k0:
            return k0, np.zeros((0, grid.n_bins), np.float32)
        hard = np.zeros((k1 - k0, grid.n_bins), bool)
        for p in self.parts:
            m = p.shape.raster(grid, k0, k1)
            hard = hard | m if p.mode == "add" else hard & ~m
        return k0, _feather(hard, grid, self.edge_s, self.edge_hz)

    def mask_for(self, grid: StftGrid, frames: int) -> np.ndarray:
        """The whole-length mask (frames of the STFT of ``frames`` samples x bins); for small inputs and tests."""
        full = np.zeros((grid.n_frames(frames), grid.n_bins), np.float32)
        k0, m = self.rasterise(grid, frames)
        full[k0:k0 + m.shape[0]] = m[: max(0, full.shape[0] - k0)]
        return full

    # -- persistence ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "edge_s": self.edge_s, "edge_hz": self.edge_hz,
                "parts": [{"mode": p.mode, **_shape_to_dict(p.shape)} for p in self.parts]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpectralSelection:
        parts = []
        for p in d.get("parts", []):
            mode = p.get("mode", "add")
            if mode not in ("add", "subtract"):
                raise ValueError(f"selection part mode must be add or subtract (got {mode!r})")
            parts.append(SelectionPart(_shape_from_dict({k: v for k, v in p.items() if k != "mode"}), mode))
        return cls(tuple(parts), float(d.get("edge_s", 0.0)), float(d.get("edge_hz", 0.0)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SpectralSelection:
        return cls.from_dict(json.loads(text))


def _shift(s: Shape, dt: float) -> Shape:
    if isinstance(s, Box):
        return replace(s, start=s.start + dt, end=s.end + dt)
    if isinstance(s, Polygon | Stroke):
        return replace(s, points=tuple((t + dt, f) for t, f in s.points))
    if isinstance(s, Painted):
        return replace(s, start=s.start + dt)
    if isinstance(s, Harmonic):
        return replace(s, times=tuple(t + dt for t in s.times))
    raise TypeError(type(s))

