"""One row per stem in the remix panel: name, mute, solo, gain, pan and an Effect… menu.

The gain slider uses the mixer fader's law (−inf at the left end, unity at about
71 %, +12 dB at the right); double-click it for 0 dB, or type a value in the box
(``-6``, ``+2 dB``, ``-inf``). The pan slider runs from L100 to R100; double-click
centres it. Rows emit ``changed(name, StemMix)`` on every change, including while
a slider is being dragged, so the preview follows the hand.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMenu, QSlider, QToolButton, QVBoxLayout, QWidget

from editor.host.widgets.fader import (
    STEPS,
    SpokenValue,
    db_to_pos,
    db_words,
    format_db,
    format_pan,
    pan_words,
    parse_db,
    pos_to_db,
)

from ..mixing import UNITY, StemMix

APPROX_TIP = ("Approximate: this stem was estimated by a DSP split of the model's accompaniment "
              "(harmonic/percussive separation and a low band), not by the model itself")

NAME_WIDTH = 78

_ROW_STYLE = """
QToolButton#mute, QToolButton#solo { min-width: 20px; font-weight: bold; border: 1px solid palette(mid);
                                     border-radius: 3px; }
QToolButton#mute:checked { background: #d9a21b; color: black; }
QToolButton#solo:checked { background: #4fbf5f; color: black; }
"""


class _Slider(SpokenValue, QSlider):
    """A horizontal slider that reports double-clicks (reset)."""

    double_clicked = Signal()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.double_clicked.emit()
        e.accept()


class StemRow(QWidget):
    """The controls of one stem. ``set_mix`` shows settings without emitting."""

    changed = Signal(str, object)  # stem name, StemMix
    effect_chosen = Signal(str, str)  # stem name, effect id
    revert_requested = Signal(str)  # stem name

    def __init__(self, name: str, approximate: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._mix = UNITY
        self._effects: list[tuple[str, str]] = []
        self.setAccessibleName(f"{name} stem")
        self.setStyleSheet(_ROW_STYLE)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 1, 0, 1)
        lay.setSpacing(4)

        self.label = QLabel(name.capitalize())
        self.label.setAccessibleName(f"{name} stem name")
        self.approx_label = QLabel("approximate")
        self.approx_label.setStyleSheet("color: #c77d00; font-size: 10px;")
        self.approx_label.setToolTip(APPROX_TIP)
        self.approx_label.setAccessibleName(f"{name} is approximate")
        self.fx_label = QLabel()
        self.fx_label.setStyleSheet("color: #4f9dde; font-size: 10px;")
        self.fx_label.setAccessibleName(f"{name} processing")
        name_box = QWidget()
        names = QVBoxLayout(name_box)
        names.setContentsMargins(0, 0, 0, 0)
        names.setSpacing(0)
        names.addWidget(self.label)
        names.addWidget(self.approx_label)
        names.addWidget(self.fx_label)
        self.approx_label.setVisible(approximate)  # only once parented: a parentless widget shown is a window
        self.fx_label.hide()
        name_box.setFixedWidth(NAME_WIDTH)

        self.mute_btn = QToolButton()
        self.mute_btn.setObjectName("mute")
        self.mute_btn.setText("M")
        self.mute_btn.setCheckable(True)
        self.mute_btn.setAccessibleName(f"Mute {name}")
        self.mute_btn.setToolTip(f"Mute {name}")
        self.mute_btn.toggled.connect(lambda on: self._emit(mute=on))
        self.solo_btn = QToolButton()
        self.solo_btn.setObjectName("solo")
        self.solo_btn.setText("S")
        self.solo_btn.setCheckable(True)
        self.solo_btn.setAccessibleName(f"Solo {name}")
        self.solo_btn.setToolTip(f"Solo {name}: hear only soloed stems")
        self.solo_btn.toggled.connect(lambda on: self._emit(solo=on))

        self.gain = _Slider(Qt.Orientation.Horizontal)
        self.gain.setRange(0, STEPS)
        self.gain.setSingleStep(5)
        self.gain.setPageStep(50)
        self.gain.setValue(db_to_pos(0.0))
        self.gain.setMinimumWidth(80)
        self.gain.setAccessibleName(f"{name} gain")
        self.gain.set_value_text(lambda pos: db_words(pos_to_db(pos)))
        self.gain.setToolTip(f"{name.capitalize()} level, -inf to +12 dB: drag, scroll or use the arrow keys; "
                             "double-click for 0 dB")
        self.gain.valueChanged.connect(self._slid)
        self.gain.double_clicked.connect(lambda: self._set_gain(0.0))
        self.gain_box = QLineEdit(format_db(0.0))
        self.gain_box.setFixedWidth(44)
        self.gain_box.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.gain_box.setAccessibleName(f"{name} gain in dB")
        self.gain_box.setToolTip("Level in dB: type a value (e.g. -6, +2, -inf) and press Enter")
        self.gain_box.returnPressed.connect(self._typed)
        self.gain_box.editingFinished.connect(self._restore_box)

        self.pan = _Slider(Qt.Orientation.Horizontal)
        self.pan.setRange(-100, 100)
        self.pan.setPageStep(10)
        self.pan.setFixedWidth(48)
        self.pan.setAccessibleName(f"{name} pan")
        self.pan.set_value_text(lambda v: pan_words(v / 100.0))
        self.pan.setToolTip("Pan (stereo clips): drag; double-click to centre")
        self.pan.valueChanged.connect(lambda v: self._emit(pan=v / 100.0))
        self.pan.double_clicked.connect(lambda: self.pan.setValue(0))
        self.pan_label = QLabel("C")
        self.pan_label.setFixedWidth(28)
        self.pan_label.setAccessibleName(f"{name} pan value")

        self.fx_button = QToolButton()
        self.fx_button.setText("FX")
        self.fx_button.setAccessibleName(f"Effect on {name}")
        self.fx_button.setToolTip(f"Process only the {name} stem with another effect (e.g. denoise), then remix")
        self.fx_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.fx_menu = QMenu(self.fx_button)
        self.fx_menu.aboutToShow.connect(self._fill_menu)
        self.fx_button.setMenu(self.fx_menu)

        for wdg, stretch in ((name_box, 0), (self.mute_btn, 0), (self.solo_btn, 0), (self.gain, 1),
                             (self.gain_box, 0), (self.pan, 0), (self.pan_label, 0), (self.fx_button, 0)):
            lay.addWidget(wdg, stretch)

    # -- state ------------------------------------------------------------------------
    @property
    def mix(self) -> StemMix:
        return self._mix

    def set_mix(self, mix: StemMix) -> None:
        """Show ``mix``; emits nothing. A slider being dragged is left alone."""
        self._mix = mix
        for wdg in (self.mute_btn, self.solo_btn, self.gain, self.pan):
            wdg.blockSignals(True)
        self.mute_btn.setChecked(mix.mute)
        self.solo_btn.setChecked(mix.solo)
        if not self.gain.isSliderDown():
            self.gain.setValue(db_to_pos(mix.gain_db))
        if not self.pan.isSliderDown():
            self.pan.setValue(round(mix.pan * 100))
        for wdg in (self.mute_btn, self.solo_btn, self.gain, self.pan):
            wdg.blockSignals(False)
        if not self.gain_box.hasFocus():
            self.gain_box.setText(format_db(mix.gain_db))
        self.pan_label.setText(format_pan(mix.pan))

    def set_processed(self, title: str | None) -> None:
        """Show which effect processed this stem (None: as separated)."""
        text = self.fx_label.fontMetrics().elidedText(f"+ {title}", Qt.TextElideMode.ElideRight, NAME_WIDTH)
        self.fx_label.setText(text if title else "")
        self.fx_label.setToolTip(f"Processed with {title}; the remix uses the processed stem" if title else "")
        self.fx_label.setVisible(bool(title))

    def set_effects(self, effects: list[tuple[str, str]]) -> None:
        """The (id, title) of the effects the Effect… menu offers."""
        self._effects = list(effects)

    # -- changes ----------------------------------------------------------------------
    def _emit(self, **changes: object) -> None:
        mix = replace(self._mix, **changes)
        if mix == self._mix:
            return
        self._mix = mix
        if "pan" in changes:
            self.pan_label.setText(format_pan(mix.pan))
        self.changed.emit(self.name, mix)

    def _slid(self, pos: int) -> None:
        db = pos_to_db(pos)
        if not self.gain_box.hasFocus():
            self.gain_box.setText(format_db(db))
        self._emit(gain_db=db)

    def _set_gain(self, db: float) -> None:
        self.gain.blockSignals(True)
        self.gain.setValue(db_to_pos(db))
        self.gain.blockSignals(False)
        self.gain_box.setText(format_db(db))
        self._emit(gain_db=db)

    def _typed(self) -> None:
        try:
            db = parse_db(self.gain_box.text())
        except ValueError as exc:
            self.gain_box.setToolTip(str(exc))
            self._restore_box()
            return
        self.gain_box.clearFocus()
        self._set_gain(db)

    def _restore_box(self) -> None:
        self.gain_box.setText(format_db(self._mix.gain_db))

    def _fill_menu(self) -> None:
        m = self.fx_menu
        m.clear()
        for effect_id, title in self._effects:
            a = m.addAction(f"{title}…")
            a.setObjectName(effect_id)
            a.triggered.connect(lambda _c=False, i=effect_id: self.effect_chosen.emit(self.name, i))
        if not self._effects:
            m.addAction("(no effect can process a stem)").setEnabled(False)
        m.addSeparator()
        revert = m.addAction("Revert to the separated stem")
        revert.setObjectName("revert")
        revert.setEnabled(self.fx_label.isVisible())
        revert.triggered.connect(lambda: self.revert_requested.emit(self.name))

