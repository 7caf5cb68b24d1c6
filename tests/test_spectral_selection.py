"""Spectral selection model (editor.core.spectral_selection / spectral_track / spectral_stft): no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.spectral_selection import (
    Box,
    Harmonic,
    Painted,
    Polygon,
    SpectralSelection,
    StftGrid,
    Stroke,
)
from editor.core.spectral_stft import apply_tf_edit, stft_frames
from editor.core.spectral_track import track_harmonic

SR = 16000
GRID = StftGrid(SR, 1024, 256)  # 15.6 Hz bins, 16 ms frames
N = SR * 2


def _cells(mask: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(*np.nonzero(mask > 0)))


def test_box_selects_its_time_span_and_band_only():
    m = SpectralSelection.box(0.5, 1.0, 1000.0, 2000.0).mask_for(GRID, N)
    t = GRID.times(0, m.shape[0])
    f = GRID.freqs()
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    assert abs(t[rows[0]] - 0.5) <= GRID.frame_seconds and abs(t[rows[-1]] - 1.0) <= GRID.frame_seconds
    assert abs(f[cols[0]] - 1000) <= GRID.bin_hz and abs(f[cols[-1]] - 2000) <= GRID.bin_hz
    assert set(np.unique(m)) == {0.0, 1.0}
    assert m[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()  # a full rectangle


def test_add_and_subtract_combine_in_order():
    a = Box(0.2, 0.8, 500, 1500)
    hole = Box(0.4, 0.6, 800, 1200)
    other = Box(1.2, 1.4, 3000, 3500)
    sel = SpectralSelection((), 0.0, 0.0).add(a).subtract(hole).add(other)
    m = sel.mask_for(GRID, N)
    only_a = SpectralSelection().add(a).mask_for(GRID, N)
    only_hole = SpectralSelection().add(hole).mask_for(GRID, N)
    only_other = SpectralSelection().add(other).mask_for(GRID, N)
    assert _cells(m) == (_cells(only_a) - _cells(only_hole)) | _cells(only_other)
    # subtracting first and adding later: the later add wins
    m2 = SpectralSelection().add(a).subtract(hole).add(hole).mask_for(GRID, N)
    assert _cells(m2) == _cells(only_a)


def test_soft_edges_ramp_outwards_over_the_set_widths():
    hard = SpectralSelection.box(0.8, 1.2, 2000, 3000)
    soft = hard.with_edges(0.1, 400.0)
    mh, ms = hard.mask_for(GRID, N), soft.mask_for(GRID, N)
    assert np.all(ms[mh > 0] == 1.0)  # inside stays fully selected
    t = GRID.times(0, ms.shape[0])
    f = GRID.freqs()
    mid_t = int(np.argmin(np.abs(t - 1.0)))
    row = ms[mid_t]
    # the frequency edge: falls from 1 at 3000 Hz to 0 at 3400 Hz, monotonically, about 0.5 half-way
    above = row[(f > 3000) & (f < 3400)]
    assert np.all(np.diff(above) <= 1e-6) and 0.3 < row[np.argmin(np.abs(f - 3200))] < 0.7
    assert np.all(row[f > 3400 + GRID.bin_hz] == 0.0)
    col = ms[:, int(np.argmin(np.abs(f - 2500)))]
    before = col[(t > 0.7) & (t < 0.8 - GRID.frame_seconds)]
    assert np.all(np.diff(before) >= -1e-6) and 0 < before.min() < before.max() < 1
    assert np.all(col[t < 0.7 - GRID.frame_seconds] == 0.0)


def test_brush_lasso_and_painted_cells_rasterise_where_drawn():
    stroke = Stroke(((0.5, 1000.0), (1.0, 2000.0)), radius_s=0.05, radius_hz=100.0)
    m = SpectralSelection().add(stroke).mask_for(GRID, N)
    t, f = GRID.times(0, m.shape[0]), GRID.freqs()
    k = int(np.argmin(np.abs(t - 0.75)))
    on = f[m[k] > 0]
    assert on.size and abs(on.mean() - 1500) < 60  # the middle of the stroke is at 1500 Hz
    assert m[int(np.argmin(np.abs(t - 1.5)))].sum() == 0
    tri = Polygon(((0.2, 500.0), (0.6, 500.0), (0.2, 2500.0)))
    mp = SpectralSelection().add(tri).mask_for(GRID, N)
    k1, k2 = int(np.argmin(np.abs(t - 0.25))), int(np.argmin(np.abs(t - 0.55)))
    assert (mp[k1] > 0).sum() > 3 * (mp[k2] > 0).sum() > 0  # wide near the left edge, narrow near the tip
    cells = np.zeros((10, 10), bool)
    cells[2, 3] = True
    pm = SpectralSelection().add(Painted.from_array(cells, 0.0, 0.1, 0.0, 200.0)).mask_for(GRID, N)
    sel_t = t[pm.any(axis=1)]
    sel_f = f[pm.any(axis=0)]
    assert sel_t.min() > 0.19 and sel_t.max() < 0.31 and sel_f.min() > 590 and sel_f.max() < 810
    # A dab on a grid finer than the STFT still selects the cell under it.
    fine = Painted(1.0, 0.001, 1000.0, 2.0, ((0, 0),))
    fm = SpectralSelection().add(fine).mask_for(GRID, N)
    (k,), (j,) = np.nonzero(fm.any(axis=1)), np.nonzero(fm.any(axis=0))
    assert abs(t[k] - 1.0) <= GRID.frame_seconds and abs(f[j] - 1000.0) <= GRID.bin_hz


def test_selection_round_trips_through_json_and_shifts_in_time():
    sel = (SpectralSelection.box(0.5, 1.0, 1000.0, float("inf"), edge_s=0.02, edge_hz=50.0)
           .add(Harmonic((0.1, 0.2, 0.3), (200.0, float("nan"), 210.0), n_harmonics=4))
           .subtract(Stroke(((0.7, 1500.0),), 0.05, 100.0))
           .add(Polygon(((1.2, 100.0), (1.5, 100.0), (1.3, 900.0)))))
    back = SpectralSelection.from_json(sel.to_json())
    assert np.array_equal(back.mask_for(GRID, N), sel.mask_for(GRID, N))
    moved = sel.shifted(0.25)
    m0, m1 = sel.mask_for(GRID, N), moved.mask_for(GRID, N)
    shift = int(round(0.25 / GRID.frame_seconds))
    assert np.array_equal(m1[shift:shift + 40], m0[:40])
    assert moved.bounds()[0] == pytest.approx(sel.bounds()[0] + 0.25)
    with pytest.raises(ValueError):
        SpectralSelection.from_dict({"parts": [{"kind": "blob"}]})


def test_local_edit_leaves_samples_outside_its_frames_bit_exact():
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal((2, N))).astype(np.float32)
    k_all = GRID.n_frames(N)
    full = stft_frames(x, GRID, 0, k_all)
    y = apply_tf_edit(np.zeros_like(x), GRID, 0, full)  # resynthesis of everything
    assert np.max(np.abs(y - x)) < 1e-5
    k0, k1 = 40, 50
    X = stft_frames(x, GRID, k0, k1)
    z = apply_tf_edit(x, GRID, k0, -X * 0.5)
    changed = np.flatnonzero(np.any(z != x, axis=0))
    assert changed.min() >= k0 * GRID.hop - GRID.n_fft // 2
    assert changed.max() < (k1 - 1) * GRID.hop + GRID.n_fft // 2


def test_harmonic_tracking_follows_a_gliding_tone():
    sr = 22050
    t = np.arange(int(sr * 3.0)) / sr
    f0 = 250.0 * 2 ** (t / 3.0)  # one octave up over 3 s
    ph = 2 * np.pi * np.cumsum(f0) / sr
    gate = (t > 0.5) & (t < 2.5)
    x = (0.3 * np.sin(ph) + 0.15 * np.sin(2 * ph) + 0.1 * np.sin(3 * ph)) * gate
    x = x + 0.003 * np.random.default_rng(0).standard_normal(t.size)
    click_t = 1.5
    h = track_harmonic(x[None].astype(np.float32), sr, click_t, 2 * 250 * 2 ** 0.5 + 12.0, partial=2,
                       n_harmonics=3)
    times, est = np.asarray(h.times), np.asarray(h.f0)
    assert times[0] == pytest.approx(0.5, abs=0.06) and times[-1] == pytest.approx(2.5, abs=0.06)
    truth = 250.0 * 2 ** (times / 3.0)
    ok = np.isfinite(est)
    assert ok.mean() > 0.95
    assert np.max(np.abs(est[ok] / truth[ok] - 1)) < 0.02  # within a third of a semitone all along
    # The harmonic selection covers all three partials at 2 s and nothing in between.
    grid = StftGrid(sr, 2048, 512)
    m = SpectralSelection().add(h).mask_for(grid, t.size)
    k = int(round(2.0 / grid.frame_seconds))
    f = grid.freqs()
    ft = 250.0 * 2 ** (2.0 / 3.0)
    for p in (1, 2, 3):
        assert m[k, int(round(p * ft / grid.bin_hz))] == 1.0
    assert m[k, int(round(1.5 * ft / grid.bin_hz))] == 0.0
    assert m[k, f > 3.5 * ft].sum() == 0
