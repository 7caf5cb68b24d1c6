"""Mixer controls: a fader in dB with a typed-value box, a pan knob and a strip meter.

The fader law is ``gain = gmax · p⁴`` for a slider position ``p`` in [0, 1]
(``dB = +12 + 80·log10 p``): the bottom is silence (−inf dB), unity sits at about
71 % of the travel, −20 dB at 40 %, −60 dB at 13 %, so the useful range gets most
of the travel, as on a console. The model always keeps the exact dB value the
user set or typed; the slider only shows the nearest position.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractSlider, QDial, QHBoxLayout, QLineEdit, QSizePolicy, QSlider, QVBoxLayout, QWidget

from .meters import FLOOR_DB, HOLD_S, PeakMeter

MAX_DB = 12.0
STEPS = 1000  # slider positions
DECAY_DB_PER_S = 24.0  # meter fall-back speed


# --------------------------------------------------------------------------- values


def db_to_pos(db: float) -> int:
    """Slider position (0..STEPS) for a gain in dB."""
    if db == -math.inf:
        return 0
    p = 10.0 ** ((min(db, MAX_DB) - MAX_DB) / 80.0)
    return max(0, min(STEPS, round(p * STEPS)))


def pos_to_db(pos: int) -> float:
    """Gain in dB for a slider position, rounded to 0.1 dB (−inf at the bottom)."""
    if pos <= 0:
        return -math.inf
    return round(MAX_DB + 80.0 * math.log10(min(pos, STEPS) / STEPS), 1)


def format_db(db: float) -> str:
    if db == -math.inf:
        return "-inf"
    return f"{db:+.1f}" if db else "0.0"


_DB_RE = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)|[+-]?inf(?:inity)?|-?∞)\s*(?:db)?\s*$", re.IGNORECASE)


def parse_db(text: str) -> float:
    """A typed gain: ``-6``, ``+3.5 dB``, ``-inf``; clamped to at most +12 dB.

    Raises ValueError for anything else (including +inf)."""
    m = _DB_RE.match(text)
    if not m:
        raise ValueError(f"not a gain in dB: {text!r}")
    s = m.group(1).lower().replace(",", ".").replace("∞", "inf")
    if "inf" in s:
        if s.startswith("+") or not s.startswith("-"):
            raise ValueError("a gain cannot be +inf dB")
        return -math.inf
    return min(MAX_DB, float(s))


def format_pan(pan: float) -> str:
    v = round(pan * 100)
    return "C" if v == 0 else (f"L{-v}" if v < 0 else f"R{v}")


# --------------------------------------------------------------------------- widgets


def db_words(db: float) -> str:
    """A level as a screen reader should say it: "minus 6.0 dB", "silent"."""
    if db == -math.inf:
        return "silent (minus infinity dB)"
    return f"{'minus ' if db < 0 else 'plus ' if db > 0 else ''}{abs(db):.1f} dB"


def pan_words(pan: float) -> str:
    """A pan position in words: "centre", "left 30", "right 100"."""
    v = round(pan * 100)
    return "centre" if v == 0 else (f"left {-v}" if v < 0 else f"right {v}")


class SpokenValue:
    """Mix into a QAbstractSlider: its accessible description follows its value in words
    (``value_text(position)``), also when the value is set with signals blocked, so a
    screen reader says "minus 6.0 dB" rather than the slider's raw position."""

    value_text: Callable[[int], str] | None = None

    def sliderChange(self, change: QAbstractSlider.SliderChange) -> None:  # noqa: N802
        super().sliderChange(change)  # type: ignore[misc]
        if change == QAbstractSlider.SliderChange.SliderValueChange and self.value_text is not None:
            self.setAccessibleDescription(self.value_text(self.value()))  # type: ignore[attr-defined]

    def set_value_text(self, fn: Callable[[int], str]) -> None:
        self.value_text = fn
        self.setAccessibleDescription(fn(self.value()))  # type: ignore[attr-defined]


class _Slider(SpokenValue, QSlider):
    double_clicked = Signal()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.double_clicked.emit()
        e.accept()


class _ValueBox(QLineEdit):
    """The fader's value; editable: type a value and press Enter (Escape cancels)."""

    cancelled = Signal()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            self.clearFocus()
            return
        super().keyPressEvent(e)


class DbFader(QWidget):
    """A vertical fader in dB, −inf..+12 dB, with its value below.

    ``moved(db)`` fires while the user drags (or wheels / uses the keys), ``released``
    when a drag ends, and ``typed(db)`` when a value is typed in the box (double-click
    the fader, or click the box). ``set_db`` never emits.
    """

    moved = Signal(float)
    released = Signal()
    typed = Signal(float)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = 0.0
        self.slider = _Slider(Qt.Orientation.Vertical)
        self.slider.setRange(0, STEPS)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(50)
        self.slider.setValue(db_to_pos(0.0))
        self.slider.setTickPosition(QSlider.TickPosition.NoTicks)
        self.slider.setAccessibleName(f"{name} volume")
        self.slider.set_value_text(lambda pos: db_words(pos_to_db(pos)))
        self.slider.setToolTip("Volume: drag, scroll or use the arrow keys; double-click to type a value")
        self.slider.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.slider.setMinimumHeight(120)
        self.box = _ValueBox(format_db(0.0))
        self.box.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.box.setAccessibleName(f"{name} volume in dB")
        self.box.setToolTip("Volume in dB: type a value (e.g. -6, +3.5, -inf) and press Enter")
        self.box.setMaximumWidth(64)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.row = QHBoxLayout()  # the strip puts its meter beside the slider
        self.row.setSpacing(4)
        self.row.addWidget(self.slider)
        lay.addLayout(self.row, 1)
        lay.addWidget(self.box, 0, Qt.AlignmentFlag.AlignHCenter)
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(self.released)
        self.slider.double_clicked.connect(self.edit)
        self.box.returnPressed.connect(self._commit)
        self.box.editingFinished.connect(self._restore)
        self.box.cancelled.connect(self._restore)

    @property
    def db(self) -> float:
        return self._db

    def set_db(self, db: float) -> None:
        """Show ``db`` (from the model); emits nothing. A drag in progress is left alone."""
        self._db = db
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(db_to_pos(db))
            self.slider.blockSignals(False)
        if not self.box.hasFocus():
            self.box.setText(format_db(db))

    def edit(self) -> None:
        """Start typing a value."""
        self.box.setFocus(Qt.FocusReason.MouseFocusReason)
        self.box.selectAll()

    def _slid(self, pos: int) -> None:
        db = pos_to_db(pos)
        if db == self._db:
            return
        self._db = db
        self.box.setText(format_db(db))
        self.moved.emit(db)

    def _commit(self) -> None:
        try:
            db = parse_db(self.box.text())
        except ValueError as exc:
            self.box.setToolTip(str(exc))
            self._restore()
            return
        self.box.clearFocus()
        self.set_db(db)
        self.typed.emit(db)

    def _restore(self) -> None:
        self.box.setText(format_db(self._db))

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802 - wheel over the value box moves the fader too
        self.slider.wheelEvent(e)


class PanKnob(SpokenValue, QDial):
    """Pan, −100 (left) .. +100 (right); double-click centres it."""

    centred = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(-100, 100)
        self.setSingleStep(1)
        self.setPageStep(10)
        self.setNotchesVisible(True)
        self.setWrapping(False)
        self.setFixedSize(40, 40)
        self.setAccessibleName(f"{name} pan")
        self.setToolTip("Pan: drag, scroll or use the arrow keys; double-click to centre")
        self.set_value_text(lambda v: pan_words(v / 100.0))

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.centred.emit()
        e.accept()


class StripMeter(PeakMeter):
    """A vertical peak meter that falls back at a fixed rate in dB per second (so
    its speed does not depend on how often it is fed), holds peaks for
    ``HOLD_S`` and lights its clip box at full scale (click to reset).

    ``peaks`` and ``position`` are the raw linear levels last fed and the timeline
    frame they belong to, straight from the renderer's output."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setAccessibleName(f"{name} level")
        self.setMinimumSize(14, 100)
        self.peaks = (0.0, 0.0)
        self.position: int | None = None
        self.max_db = FLOOR_DB  # highest peak since the last reset
        self._t = time.monotonic()

    def feed(self, left: float, right: float, position: int | None = None) -> None:
        now = time.monotonic()
        fall = DECAY_DB_PER_S * max(0.0, now - self._t)
        self._t = now
        self.peaks = (left, right)
        self.position = position
        for i, v in enumerate((left, right)):
            db = 20 * math.log10(v) if v > 10 ** (FLOOR_DB / 20) else FLOOR_DB
            self.levels[i] = db if db > self.levels[i] else max(db, self.levels[i] - fall)
            if db >= self.holds[i] or now - self._hold_t[i] > HOLD_S:
                self.holds[i] = db if db >= self.holds[i] else max(db, self.holds[i] - fall)
                if db >= self.holds[i]:
                    self._hold_t[i] = now
            self.max_db = max(self.max_db, db)
            if v >= 1.0:
                self.clipped = True
        self.update()

    @property
    def idle(self) -> bool:
        """True once the bars and holds have fallen to the floor."""
        return max(self.levels + self.holds) <= FLOOR_DB

    def reset(self) -> None:
        super().reset()
        self.max_db = FLOOR_DB
        self.peaks = (0.0, 0.0)
        self.position = None

    def mousePressEvent(self, e) -> None:  # noqa: N802, ANN001
        self.max_db = FLOOR_DB
        super().mousePressEvent(e)
