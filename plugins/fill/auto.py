"""Engine choice for ``engine=auto``: by gap length and kind of material.

The table comes from the benchmark (bench/fill.py, docs/FILL.md): for each kind of
material and each gap length of the dev set, the engine with the best score in
that run. The benchmark prints the table it derives and flags any cell that
differs from this one.
"""

from __future__ import annotations

import numpy as np

#: Upper gap lengths (s) of the buckets, named after the dev-set gap they hold.
BUCKETS: tuple[tuple[float, str], ...] = ((0.045, "20 ms"), (0.22, "100 ms"), (1.0, "500 ms"),
                                          (float("inf"), "2 s"))

#: engine per material, one per bucket: derived by bench/fill.py on 2026-11-21 (84 gaps; docs/FILL.md).
TABLE: dict[str, tuple[str, ...]] = {
    "music": ("ar", "match", "match", "match"),
    "speech": ("ar", "ar", "neural", "neural"),
    "noise": ("match", "match", "match", "match"),
}

CLASSIFY_SECONDS = 4.0


def bucket(gap_seconds: float) -> int:
    for i, (hi, _name) in enumerate(BUCKETS):
        if gap_seconds <= hi:
            return i
    return len(BUCKETS) - 1


def material_around(x: np.ndarray, a: int, b: int, rate: int, seconds: float = CLASSIFY_SECONDS) -> np.ndarray:
    """Mono context on both sides of the gap (at most ``seconds`` each), the gap itself left out."""
    n = int(seconds * rate)
    mono = np.asarray(x, np.float32).mean(axis=0)
    return np.concatenate([mono[max(0, a - n):a], mono[b:b + n]])


def choose(x: np.ndarray, rate: int, a: int, b: int) -> tuple[str, str]:
    """``(engine, material)`` for filling ``[a, b)`` of planar ``x``."""
    from .features import classify

    material = classify(material_around(x, a, b, rate), rate)
    return TABLE[material][bucket((b - a) / rate)], material
