"""The selection an effect works on, from its parameters, and the STFT around it.

Every spectral effect takes the same parameters: ``start``/``end`` (seconds from
the start of the processed audio), ``low_hz``/``high_hz`` (the band; ``high_hz`` 0
means up to the Nyquist frequency), ``edge_ms``/``edge_hz`` (soft edges) and
``selection``: a :class:`~editor.core.spectral_selection.SpectralSelection` as
JSON (or ``@path`` to a JSON file), which replaces the box when given — this is
how a painted, lasso or harmonic selection reaches an effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from editor.core.spectral_selection import SpectralSelection, StftGrid
from editor.effects.base import EffectError, Param

SELECTION_PARAMS: tuple[Param, ...] = (
    Param("start", "float", 0.0, 0.0, 1e7, unit="s", help="selection start, from the start of the audio"),
    Param("end", "float", 0.0, 0.0, 1e7, unit="s", help="selection end (0: to the end of the audio)"),
    Param("low_hz", "float", 0.0, 0.0, 1e6, unit="Hz", label="Low", help="lowest frequency of the selection"),
    Param("high_hz", "float", 0.0, 0.0, 1e6, unit="Hz", label="High",
          help="highest frequency of the selection (0: up to the Nyquist frequency)"),
    Param("edge_ms", "float", 0.0, 0.0, 2000.0, unit="ms", label="Soft edge (time)",
          help="width of the soft edge in time, outside the selection"),
    Param("edge_hz", "float", 0.0, 0.0, 5000.0, unit="Hz", label="Soft edge (frequency)",
          help="width of the soft edge in frequency, outside the selection"),
    Param("selection", "str", "", label="Shape",
          help="a painted/lasso/harmonic selection as JSON (or @file.json); replaces start/end/low/high"),
)


def selection_from_params(params: dict[str, Any], duration: float, *, require_span: bool = False,
                          ) -> SpectralSelection:
    """The selection the parameters describe, in seconds from the start of the audio."""
    text = str(params.get("selection") or "").strip()
    edge_s = float(params.get("edge_ms", 0.0)) / 1000.0
    edge_hz = float(params.get("edge_hz", 0.0))
    if text:
        try:
            if text.startswith("@"):
                text = Path(text[1:]).read_text(encoding="utf-8")
            sel = SpectralSelection.from_json(text)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise EffectError(f"selection: not a valid spectral selection ({exc})") from None
        if edge_s or edge_hz:
            sel = sel.with_edges(edge_s or sel.edge_s, edge_hz or sel.edge_hz)
        if sel.empty:
            raise EffectError("the spectral selection is empty")
        return sel
    start, end = float(params.get("start", 0.0)), float(params.get("end", 0.0))
    if end <= start:
        if require_span:
            raise EffectError("select the region (its end must come after its start)")
        start, end = 0.0, duration
    if start >= duration:
        raise EffectError(f"the selection starts at {start:g} s, after the end of the audio ({duration:.3f} s)")
    low = float(params.get("low_hz", 0.0))
    high = float(params.get("high_hz", 0.0)) or float("inf")
    if high <= low:
        raise EffectError(f"the band is empty: high_hz ({high:g}) must be above low_hz ({low:g})")
    return SpectralSelection.box(start, min(end, duration), low, high, edge_s, edge_hz)


def grid_for(rate: int) -> StftGrid:
    """The STFT the spectral effects work on: about 46 ms windows, 75 % overlap."""
    return StftGrid.for_rate(rate, 0.046, 4)


def region_mask(sel: SpectralSelection, grid: StftGrid, frames: int) -> tuple[int, np.ndarray]:
    """``(k0, mask)`` of the selection on ``grid``; raises when it selects nothing."""
    k0, m = sel.rasterise(grid, frames)
    if m.size == 0 or not np.any(m > 0):
        raise EffectError("the selection covers no part of the audio's spectrum")
    nz = np.flatnonzero(np.any(m > 0, axis=1))
    return k0 + int(nz[0]), m[nz[0]:nz[-1] + 1]


#: Seconds of audio either side of the selection each effect should be handed (see processing_span).
CONTEXT_FOR = {"spectral-gain": 0.0, "spectral-apply": 2.0, "spectral-repair": 30.0}


def processing_span(selection: SpectralSelection, rate: int, frames: int, effect_id: str) -> tuple[int, int]:
    """Frames ``[a, b)`` of a track (``frames`` long, ``selection`` in its seconds) to hand ``effect_id``:
    the selection's overlap-add neighbourhood plus the context the effect uses (2 s for
    ``spectral-apply``, 30 s for ``spectral-repair``, which searches and trains on it). Splicing the
    effect's whole output back over ``[a, b)`` changes only the neighbourhood: the rest is bit-exact.
    ``a`` is a multiple of the STFT hop, so the excerpt's frames are the track's frames."""
    grid = grid_for(rate)
    t0, t1, _lo, _hi = selection.bounds()
    reach = (grid.n_fft // 2 + grid.hop) / rate + CONTEXT_FOR.get(effect_id, 2.0)
    a = max(0, int((t0 - reach) * rate) // grid.hop * grid.hop)  # on the track's STFT grid: same frames
    b = min(frames, int(np.ceil((t1 + reach) * rate)) + 1)
    return a, max(a, b)
