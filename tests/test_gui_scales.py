"""The lanes' scales and faded waveforms, measured on what the window draws: the Hz axis
names the frequency where a tone's line is on the spectrogram (linear, log and mel),
the amplitude scale names the level where a waveform's edge is (linear and dB), the
scales follow a track's height, and a fade attenuates the drawn waveform as it does
the sound."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QDockWidget

from editor.core import edits
from editor.core.model import Clip, FadeShape, Project
from editor.core.sequence import AudioSeq
from editor.core.store import default_store
from editor.engine.renderer import clip_envelope
from editor.qt.timeline.axes import AXIS_WIDTH, freq_at, freq_fraction, row_edges
from editor.qt.timeline.spectrogram import ROWS, SpectroSettings, _row_matrix
from editor.qt.timeline.waveform import PeakCache, clip_fade_gains, draw_clip_waveform

pytestmark = pytest.mark.gui
RATE = 48000


def _seq(x: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(default_store().blocks_from_array(x), x.shape[0])


def _show(w, x: np.ndarray, height: int = 240) -> str:
    for dock in w.findChildren(QDockWidget):
        dock.hide()
    w.set_project(edits.add_track(Project(sample_rate=RATE), "Tone", (Clip(_seq(x), 0),)))
    tid = w.project.tracks[0].id
    w.timeline.lanes.set_height(tid, height)
    w.timeline.set_project(w.project)
    w.fit_project()
    QApplication.processEvents()
    return tid


def _grab(widget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return a.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width(), :3].astype(np.int32).copy()


def _settled(lanes) -> np.ndarray:
    for _ in range(50):
        _grab(lanes)
        assert lanes.spectra.wait_idle(20000)
        QApplication.processEvents()
        img = _grab(lanes)
        if not lanes.spectra._pending:
            return img
    raise AssertionError("spectrogram tiles keep being asked for")


def _labels(w, kind: str) -> list[tuple[float, str]]:
    return [(y, text) for _t, k, y, text in w.timeline.axes.labels() if k == kind]


def _hz(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def test_axis_mapping_is_the_spectrogram_row_mapping():
    for scale in ("linear", "log", "mel"):
        edges = row_edges(RATE, scale)
        m = _row_matrix(1025, RATE, scale)
        freqs = np.linspace(0, RATE / 2, 1025)
        for r in range(0, ROWS, 17):
            (bins,) = np.nonzero(m[r])
            centre = freqs[bins].mean()
            assert edges[r] - RATE / 2048 <= centre <= edges[r + 1] + RATE / 2048
            mid = (edges[r] + edges[r + 1]) / 2
            assert r / ROWS <= freq_fraction(mid, RATE, scale) <= (r + 1) / ROWS
        x = np.linspace(0, 1, 101)
        np.testing.assert_allclose(freq_fraction(freq_at(x, RATE, scale), RATE, scale), x, atol=1e-9)


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_hz_axis_names_the_frequency_where_a_tone_is_drawn(window, qtbot, scale):
    w = window
    tone = 3000.0
    t = np.arange(RATE) / RATE
    tid = _show(w, (0.5 * np.sin(2 * np.pi * tone * t))[None].astype(np.float32))
    lanes = w.timeline.lanes
    lanes.display_for(tid).spectro = SpectroSettings(scale=scale)
    w.timeline.set_track_mode(tid, "spectrogram")
    img = _settled(lanes)
    (_t, kind, rect), = w.timeline.axes.areas()
    assert kind == "spec"
    x = int(w.state.x_of(RATE // 2))
    column = img[int(rect.top()) : int(rect.bottom()), x].sum(axis=1)
    y = rect.top() + int(np.argmax(column)) + 0.5  # the brightest row: the tone's line
    hz = float(freq_at((rect.bottom() - y) / rect.height(), RATE, scale))
    assert abs(hz - tone) / tone < 0.06, (scale, hz)
    labels = _labels(w, "spec")
    assert len(labels) >= 3
    for ly, text in labels:  # each label sits where its frequency is drawn
        assert abs(float(freq_at((rect.bottom() - ly) / rect.height(), RATE, scale)) - _hz(text)) < 0.5
    # The label just above the tone names a higher frequency than the one below it.
    above = [_hz(tx) for ly, tx in labels if ly < y]
    below = [_hz(tx) for ly, tx in labels if ly > y]
    assert above and below and min(above) > tone > max(below)


@pytest.mark.parametrize("db", [False, True])
def test_amplitude_scale_names_the_level_at_the_waveform_edge(window, qtbot, db):
    w = window
    level = 10 ** (-24 / 20) if db else 0.5
    square = np.where(np.arange(RATE) % 200 < 100, level, -level).astype(np.float32)[None]
    tid = _show(w, square)
    lanes = w.timeline.lanes
    lanes.display_for(tid).db = db
    w.timeline._refresh_headers()
    lanes.update()
    img = _grab(lanes)
    (_t, kind, rect), = w.timeline.axes.areas()
    assert kind == "wave"
    wave = QColor(w.project.tracks[0].colour).lighter(150)
    x = int(w.state.x_of(RATE // 2))
    cols = img[:, x - 3 : x + 4]
    hits = np.nonzero(((cols[..., 2] == wave.red()) & (cols[..., 1] == wave.green())
                       & (cols[..., 0] == wave.blue())).any(axis=1))[0]
    top_edge = hits.min()
    labels = dict((text, y) for y, text in reversed(_labels(w, "wave")))
    name = "-24" if db else "0.5"
    assert name in labels, labels
    assert abs(labels[name] - top_edge) <= 2.0, (labels[name], top_edge)
    assert ("-∞" in labels) == db and ("1" in labels) != db
    axes = w.timeline.axes  # at the lanes' left edge, beside the track header
    assert axes.isVisible() and axes.geometry().left() == 0 and axes.width() == AXIS_WIDTH
    assert all(rect.top() - 1 <= y <= rect.bottom() + 1 for y in labels.values())


def test_scales_follow_the_track_height(window, qtbot):
    w = window
    tid = _show(w, np.zeros((1, RATE), np.float32), height=120)
    before = _labels(w, "wave")
    w.timeline.lanes.set_height(tid, 300)
    w.timeline.set_project(w.project)
    after = _labels(w, "wave")
    zero_before = next(y for y, t in before if t == "0")
    zero_after = next(y for y, t in after if t == "0")
    _track, top, h = w.timeline.lanes.track_rows()[0]
    assert zero_after > zero_before and abs(zero_after - (top + 2 + 16 + (h - 20) / 2)) < 1.0
    assert len(after) >= len(before)


def test_fade_gains_drawn_are_the_gains_heard(store):
    x = np.ones((1, 4000), np.float32)
    clip = Clip(_seq(x), 500, offset=200, length=3000, fade_in=1000, fade_out=700,
                fade_in_shape=FadeShape.S_CURVE, fade_out_shape=FadeShape.LINEAR, fade_in_offset=100)
    heard = clip_envelope(clip, clip.position, clip.end)
    drawn = clip_fade_gains(clip, np.arange(clip.offset, clip.offset + clip.length))
    np.testing.assert_allclose(drawn, heard, atol=1e-6)


def test_a_fade_in_attenuates_the_drawn_waveform(store):
    n = 48000
    x = np.where(np.arange(n) % 50 < 25, 0.9, -0.9).astype(np.float32)[None]
    seq = _seq(x)

    def heights(clip: Clip | None) -> np.ndarray:
        img = QImage(480, 200, QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        p = QPainter(img)
        draw_clip_waveform(p, QRectF(0, 0, 480, 200), PeakCache(), seq, 0, n, 0.0, n / 480, QColor("black"),
                           envelope=clip)
        p.end()
        a = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(200, -1, 4)[:, :480, 0]
        return (a < 128).sum(axis=0)

    plain = heights(None)
    faded = heights(Clip(seq, 0, fade_in=n // 2, fade_in_shape=FadeShape.LINEAR))
    assert faded[5] < 0.1 * plain[5], "nearly silent at the fade's start"
    assert 0.35 * plain[120] < faded[120] < 0.65 * plain[120], "half way up the linear fade"
    assert abs(int(faded[400]) - int(plain[400])) <= 1, "untouched after the fade"
