"""Spectrogram tiles, computed in the background and drawn as images.

A tile is :data:`TILE` pixel columns of one sequence at one zoom and one set of
settings. Each column is the power spectrum of a window centred on the column
(averaging up to four windows when a column spans more than a window), mapped
to rows on a linear, log or mel frequency axis, converted to dB, scaled to the
chosen range and coloured through a lookup table. Tiles for what is on screen
are requested first; workers run on a low-priority thread pool and post
results back, so the visible part of an hour-long file appears at once and the
rest fills in without blocking.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyqtgraph import colormap
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage

from ...core.sequence import AudioSeq

TILE = 256
ROWS = 256
COLORMAPS = ("magma", "viridis", "inferno", "plasma", "CET-L1")


@dataclass(frozen=True)
class SpectroSettings:
    window: int = 2048
    scale: str = "log"  # linear | log | mel
    db_range: float = 90.0
    colormap: str = "magma"


def _row_matrix(n_bins: int, rate: int, scale: str, rows: int = ROWS) -> np.ndarray:
    """(rows × n_bins) weights mapping FFT bins to display rows, bottom row first."""
    nyq = rate / 2.0
    if scale == "linear":
        edges = np.linspace(0.0, nyq, rows + 1)
    elif scale == "mel":
        def mel(f):
            return 2595.0 * np.log10(1.0 + f / 700.0)

        def imel(m):
            return 700.0 * (10 ** (m / 2595.0) - 1.0)

        edges = imel(np.linspace(mel(20.0), mel(nyq), rows + 1))
        edges[0] = 0.0
    else:
        edges = np.geomspace(20.0, nyq, rows + 1)
        edges[0] = 0.0
    freqs = np.linspace(0.0, nyq, n_bins)
    m = np.zeros((rows, n_bins), np.float32)
    for r in range(rows):
        lo, hi = edges[r], edges[r + 1]
        sel = (freqs >= lo) & (freqs < hi)
        if sel.any():
            m[r, sel] = 1.0 / sel.sum()
        else:  # narrower than a bin: interpolate the nearest bin
            m[r, min(n_bins - 1, int(round((lo + hi) / 2 / nyq * (n_bins - 1))))] = 1.0
    return m


_LUTS: dict[str, np.ndarray] = {}
_MATS: dict[tuple, np.ndarray] = {}
_lock = threading.Lock()


def lut(name: str) -> np.ndarray:
    with _lock:
        if name not in _LUTS:
            cmap = colormap.get(name) if name != "CET-L1" else colormap.get("CET-L1")
            _LUTS[name] = cmap.getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
        return _LUTS[name]


class TileAbandoned(Exception):
    """The tile left the screen while it was being computed."""


def compute_tile(seq: AudioSeq, rate: int, fpp: float, tile: int, s: SpectroSettings,
                 wanted: Callable[[], bool] | None = None) -> QImage:
    """One tile as an RGB image (TILE wide, ROWS tall).

    ``wanted`` is asked now and then while windows are read one by one (wide zoom):
    a tile that has left the screen stops early (:class:`TileAbandoned`), so a zoom
    in does not leave a worker busy with the old view's tiles, competing for the GIL
    with the GUI thread's repaints.
    """
    n = s.window
    win = np.hanning(n).astype(np.float32)
    key = (n, rate, s.scale)
    with _lock:
        mat = _MATS.get(key)
    if mat is None:
        mat = _row_matrix(n // 2 + 1, rate, s.scale)
        with _lock:
            _MATS[key] = mat
    per_col = int(min(4, max(1, fpp // n)))
    centres = (tile * TILE + np.arange(TILE)[:, None] + (np.arange(per_col)[None, :] + 0.5) / per_col) * fpp
    centres = centres.reshape(-1).astype(np.int64)
    frames = np.zeros((len(centres), n), np.float32)
    valid = centres < seq.frames
    if fpp * TILE <= 4 * n * TILE or not valid.any():
        # Dense: read the tile's span once.
        a = max(0, int(centres[0]) - n // 2)
        b = min(seq.frames, int(centres[-1]) + n // 2 + 1)
        if b > a:
            data = seq.read(a, b).mean(axis=0)
            for i, c in enumerate(centres):
                lo = c - n // 2 - a
                if lo >= 0 and lo + n <= len(data):
                    frames[i] = data[lo : lo + n]
                elif lo + n > 0 and lo < len(data):
                    s0, s1 = max(0, lo), min(len(data), lo + n)
                    frames[i, s0 - lo : s1 - lo] = data[s0:s1]
    else:
        for i, c in enumerate(centres):
            if wanted is not None and i % 64 == 63 and not wanted():
                raise TileAbandoned
            if valid[i]:
                a = max(0, c - n // 2)
                x = seq.read(a, a + n).mean(axis=0)
                frames[i, : len(x)] = x
    spec = np.abs(np.fft.rfft(frames * win, axis=1)) ** 2
    spec = spec.reshape(TILE, per_col, -1).mean(axis=1)
    rows = spec @ mat.T  # TILE × ROWS
    db = 10.0 * np.log10(rows * (4.0 / (win.sum() ** 2)) + 1e-12)
    level = np.clip((db + s.db_range) / s.db_range, 0.0, 1.0)
    idx = (level * 255).astype(np.uint8)
    rgb = lut(s.colormap)[idx]  # TILE × ROWS × 3
    rgb = np.ascontiguousarray(rgb.transpose(1, 0, 2)[::-1])  # rows top = high frequency
    img = QImage(rgb.data, TILE, ROWS, TILE * 3, QImage.Format.Format_RGB888)
    return img.copy()


class _TileTask(QRunnable):
    def __init__(self, cache: SpectroCache, key: tuple, seq: AudioSeq, rate: int, fpp: float, tile: int,
                 settings: SpectroSettings) -> None:
        super().__init__()
        self.cache, self.key, self.seq, self.rate = cache, key, seq, rate
        self.fpp, self.tile, self.settings = fpp, tile, settings

    def run(self) -> None:
        with self.cache._lock:
            if self.key not in self.cache._wanted:
                self.cache._pending.pop(self.key, None)
                return
        try:
            img = compute_tile(self.seq, self.rate, self.fpp, self.tile, self.settings,
                               wanted=lambda: self.key in self.cache._wanted)
        except TileAbandoned:
            with self.cache._lock:
                # Asked for again between the check and here: it stays pending, and is redone.
                again = self.key in self.cache._wanted
                if not again:
                    self.cache._pending.pop(self.key, None)
            if again:
                self.cache.pool.start(_TileTask(self.cache, self.key, self.seq, self.rate, self.fpp, self.tile,
                                                self.settings))
            return
        except Exception:  # noqa: BLE001 - a tile that fails stays blank, never crashes
            img = None
        self.cache._deliver(self.key, img)


class SpectroCache(QObject):
    """Tiles by (sequence, zoom, tile, settings); emits ``updated`` as they arrive."""

    updated = Signal()

    def __init__(self, max_tiles: int = 1500) -> None:
        super().__init__()
        self.max_tiles = max_tiles
        self._tiles: OrderedDict[tuple, tuple[QImage | None, AudioSeq]] = OrderedDict()
        self._pending: dict[tuple, AudioSeq] = {}
        self._wanted: set[tuple] = set()
        self._lock = threading.Lock()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pool.setThreadPriority(QThread.Priority.LowPriority)

    def tile(self, seq: AudioSeq, rate: int, fpp: float, t: int, s: SpectroSettings) -> QImage | None:
        """The tile if ready; otherwise schedule it and return None."""
        key = (id(seq), fpp, t, s)
        with self._lock:
            hit = self._tiles.get(key)
            if hit is not None and hit[1] is seq:
                self._tiles.move_to_end(key)
                return hit[0]
            self._wanted.add(key)
            if key in self._pending:
                return None
            self._pending[key] = seq
        self.pool.start(_TileTask(self, key, seq, rate, fpp, t, s))
        return None

    def forget_unwanted(self, keep: set[tuple]) -> None:
        """Drop queued tiles no longer on screen (after a zoom or scroll)."""
        with self._lock:
            self._wanted &= keep

    def _deliver(self, key: tuple, img: QImage | None) -> None:
        with self._lock:
            seq = self._pending.pop(key, None)
            self._wanted.discard(key)
            if seq is not None:
                # Keeping the sequence with its tile keeps id(seq) from being reused.
                self._tiles[key] = (img, seq)
                if len(self._tiles) > self.max_tiles:
                    self._tiles.popitem(last=False)
        self.updated.emit()

    def wait_idle(self, ms: int = 10000) -> bool:
        return self.pool.waitForDone(ms)

    def shutdown(self) -> None:
        with self._lock:
            self._wanted.clear()
        self.pool.clear()
        self.pool.waitForDone(5000)
