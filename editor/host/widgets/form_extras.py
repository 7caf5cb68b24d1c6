"""Extras a parameter form offers when the effect asks for them (the host knows no effect by name).

Two optional, Qt-free hooks on an effect class:

* ``curve(params, sample_rate) -> (freqs_hz, db)``: a response curve (an EQ's or
  a filter's magnitude response). The form then draws it above the parameters
  and redraws it whenever a parameter changes (:class:`ResponseCurve`).
* ``selection_params = ("name", ...)`` with ``from_selection(name, audio,
  sample_rate) -> value``: parameters filled from the selected audio (a noise
  profile, say). The form puts a "Use selection" button under each of them.

:func:`add_form_extras` adds both to a :class:`~.param_form.ParamForm`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFormLayout, QPushButton, QSizePolicy, QWidget

from ...core.errors import SeedwaveError
from .param_form import ParamForm

F_MIN, F_MAX = 20.0, 20000.0
# (audio planar float32, sample rate) of the current selection, or an error naming what is missing
SelectionAudio = Callable[[], tuple[np.ndarray, int]]


def has_curve(effect: Any) -> bool:
    return callable(getattr(effect, "curve", None))


def selection_params(effect: Any) -> tuple[str, ...]:
    names = tuple(getattr(effect, "selection_params", ()) or ())
    return names if callable(getattr(effect, "from_selection", None)) else ()


class ResponseCurve(QWidget):
    """A magnitude response (dB over a log frequency axis from 20 Hz to 20 kHz).

    ``freqs`` and ``db`` hold what is drawn (the effect's own ``curve`` output)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.freqs = np.zeros(0)
        self.db = np.zeros(0)
        self.setMinimumSize(220, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Response curve")
        self.setToolTip("Frequency response of the current settings")

    def set_curve(self, freqs: np.ndarray, db: np.ndarray) -> None:
        self.freqs = np.asarray(freqs, np.float64)
        self.db = np.asarray(db, np.float64)
        if self.db.size:
            self.setAccessibleDescription(f"from {self.db.min():+.1f} dB to {self.db.max():+.1f} dB")
        self.update()

    def db_range(self) -> float:
        """Half the drawn dB span: at least 12 dB, enough to show the curve."""
        finite = self.db[np.isfinite(self.db)] if self.db.size else self.db
        peak = float(np.max(np.abs(finite))) if finite.size else 0.0
        return max(12.0, 6.0 * math.ceil((min(peak, 60.0) + 1.0) / 6.0))

    def paintEvent(self, _e) -> None:  # noqa: ANN001 - QPaintEvent
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        pal = self.palette()
        p.fillRect(r, pal.base())
        span = self.db_range()

        def x_of(f: float) -> float:
            return r.left() + r.width() * (math.log10(f / F_MIN) / math.log10(F_MAX / F_MIN))

        def y_of(d: float) -> float:
            return r.top() + r.height() * (0.5 - max(-span, min(span, d)) / (2 * span))

        grid = QColor(pal.mid().color())
        p.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
        for f in (50, 100, 200, 500, 1000, 2000, 5000, 10000):
            p.drawLine(QPointF(x_of(f), r.top()), QPointF(x_of(f), r.bottom()))
        step = 6.0 if span <= 24 else 12.0
        d = -span
        while d <= span:
            p.drawLine(QPointF(r.left(), y_of(d)), QPointF(r.right(), y_of(d)))
            d += step
        p.setPen(QPen(grid, 1))
        p.drawLine(QPointF(r.left(), y_of(0.0)), QPointF(r.right(), y_of(0.0)))
        p.setPen(pal.text().color())
        font = p.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() - 2))
        p.setFont(font)
        for f, text in ((100, "100"), (1000, "1k"), (10000, "10k")):
            p.drawText(QPointF(x_of(f) + 2, r.bottom() - 2), text)
        p.drawText(QPointF(r.left() + 2, r.top() + 10), f"+{span:g} dB")
        p.drawText(QPointF(r.left() + 2, r.bottom() - 12), f"-{span:g}")
        ok = (self.freqs > 0) & np.isfinite(self.db)
        if np.count_nonzero(ok) >= 2:
            path = QPainterPath()
            first = True
            for f, d in zip(self.freqs[ok], self.db[ok], strict=True):
                if f < F_MIN or f > F_MAX:
                    continue
                pt = QPointF(x_of(float(f)), y_of(float(d)))
                if first:
                    path.moveTo(pt)
                    first = False
                else:
                    path.lineTo(pt)
            p.setPen(QPen(pal.highlight().color(), 2))
            p.drawPath(path)
        p.end()


class FormExtras:
    """What :func:`add_form_extras` added to a form: ``curve`` (or None) and ``use_selection`` buttons."""

    def __init__(self, form: ParamForm, effect: Any, sample_rate: Callable[[], int],
                 selection: SelectionAudio | None, error: Callable[[str], None] | None) -> None:
        self.form = form
        self.effect = effect
        self.sample_rate = sample_rate
        self.selection = selection
        self.error = error or (lambda _t: None)
        self.curve: ResponseCurve | None = None
        self.use_selection: dict[str, QPushButton] = {}
        lay = form.layout()
        assert isinstance(lay, QFormLayout)
        if has_curve(effect):
            self.curve = ResponseCurve()
            lay.insertRow(0, self.curve)
            form.changed.connect(self.refresh_curve)
            self.refresh_curve()
        if selection is not None:
            for name in selection_params(effect):
                field = form.fields.get(name)
                if field is None:
                    continue
                row, _role = lay.getWidgetPosition(field)
                title = effect.param(name).title if hasattr(effect, "param") else name
                b = QPushButton("Use selection")
                b.setAccessibleName(f"{title} from the selection")
                b.setToolTip(f"Set {title} from the selected audio")
                b.clicked.connect(lambda _c=False, n=name: self.fill_from_selection(n))
                lay.insertRow(row + 1, "", b)
                self.use_selection[name] = b

    def refresh_curve(self) -> None:
        if self.curve is None:
            return
        try:
            freqs, db = self.effect.curve(self.form.values(), int(self.sample_rate()))
        except (SeedwaveError, ValueError):
            return  # values being typed that the effect refuses: keep the last curve
        self.curve.set_curve(freqs, db)

    def fill_from_selection(self, name: str) -> bool:
        """Set parameter ``name`` from the selected audio; False (with a message) if that fails."""
        assert self.selection is not None
        try:
            audio, rate = self.selection()
            value = self.effect.from_selection(name, audio, rate)
        except SeedwaveError as exc:
            self.error(str(exc))
            return False
        self.form.set_values({name: value})
        self.use_selection[name].setText(f"Use selection (took {audio.shape[-1] / rate:.2f} s)")
        return True


MAX_SELECTION_S = 10.0  # plenty for a profile of steady noise; keeps the capture on the GUI thread short


def selected_audio(project: Any, start: int, stop: int, track_ids: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """Planar audio of frames [start, stop) on the first of ``track_ids`` (or the first
    track): the clips' audio in that range joined (at most :data:`MAX_SELECTION_S`)."""
    from ...jobs.effect_job import parts_for_range

    if stop <= start:
        raise SeedwaveError("select the audio to use first (nothing is selected)")
    rate = project.sample_rate
    tids = track_ids or tuple(t.id for t in project.tracks[:1])
    if not tids:
        raise SeedwaveError("there is no track to take the selected audio from")
    stop = min(stop, start + int(MAX_SELECTION_S * rate))
    pieces = []
    for part in parts_for_range(project, start, stop, tids[:1]):
        _track, clip = project.find_clip(part.clip_id)
        pieces.append(clip.audio.read(part.start, part.stop))
    if not pieces:
        raise SeedwaveError("the selection holds no audio")
    channels = max(x.shape[0] for x in pieces)
    return np.concatenate([np.broadcast_to(x, (channels, x.shape[1])) for x in pieces], axis=1), rate


def add_form_extras(form: ParamForm, effect: Any, sample_rate: Callable[[], int],
                    selection: SelectionAudio | None = None,
                    error: Callable[[str], None] | None = None) -> FormExtras:
    """Add the effect's response curve and "Use selection" buttons (if it has them) to ``form``."""
    return FormExtras(form, effect, sample_rate, selection, error)


__all__ = ["FormExtras", "ResponseCurve", "add_form_extras", "has_curve", "selected_audio", "selection_params"]
