"""A parameter form built from an effect's schema (:class:`~editor.effects.base.Param`).

float and int: a slider and a spin box (with unit and range) that follow each
other; bool: a check box; choice: a combo box; str: a line edit. Each parameter's
help text is its tooltip.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QSlider,
    QSpinBox,
    QWidget,
)

from ...effects.base import Param

MAX_SLIDER_STEPS = 10000


def _decimals(p: Param) -> int:
    if p.step:
        return max(0, min(6, -math.floor(math.log10(p.step))))
    span = (p.max - p.min) if p.min is not None and p.max is not None else 100.0
    return 3 if span <= 2 else 2 if span <= 20 else 1


class NumberField(QWidget):
    """Slider plus spin box for a float or int parameter."""

    changed = Signal()

    def __init__(self, p: Param) -> None:
        super().__init__()
        self.p = p
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lo = float(p.min) if p.min is not None else -1e9
        hi = float(p.max) if p.max is not None else 1e9
        if p.type == "int":
            self.spin: QSpinBox | QDoubleSpinBox = QSpinBox()
            self.spin.setRange(int(max(lo, -2**31 + 1)), int(min(hi, 2**31 - 1)))
            self.spin.setSingleStep(int(p.step or 1))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(_decimals(p))
            self.spin.setRange(lo, hi)
            bounded = p.min is not None and p.max is not None
            self.spin.setSingleStep(float(p.step) if p.step else (hi - lo) / 100 if bounded else 0.1)
        if p.unit:
            self.spin.setSuffix(f" {p.unit}")
        self.spin.setAccessibleName(p.title)
        self.spin.setMinimumWidth(90)
        self.slider: QSlider | None = None
        if p.min is not None and p.max is not None and hi > lo:
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setAccessibleName(f"{p.title} slider")
            steps = round((hi - lo) / p.step) if p.step else 1000
            self._steps = int(max(1, min(MAX_SLIDER_STEPS, steps)))
            self.slider.setRange(0, self._steps)
            self.slider.valueChanged.connect(self._slid)
            lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.spin.valueChanged.connect(self._spun)
        self.set_value(p.default)

    def _to_slider(self, v: float) -> int:
        lo, hi = float(self.p.min), float(self.p.max)
        return int(round((min(hi, max(lo, v)) - lo) / (hi - lo) * self._steps))

    def _slid(self, pos: int) -> None:
        lo, hi = float(self.p.min), float(self.p.max)
        v = lo + (hi - lo) * pos / self._steps
        if self.p.step:
            v = lo + round((v - lo) / self.p.step) * self.p.step
        self.spin.blockSignals(True)
        self.spin.setValue(int(round(v)) if self.p.type == "int" else v)
        self.spin.blockSignals(False)
        self.changed.emit()

    def _spun(self, v: float) -> None:
        if self.slider is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(self._to_slider(float(v)))
            self.slider.blockSignals(False)
        self.changed.emit()

    def value(self) -> float | int:
        v = self.spin.value()
        return int(v) if self.p.type == "int" else float(v)

    def set_value(self, v: Any) -> None:
        v = float(v)
        if math.isinf(v):
            v = self.spin.minimum() if v < 0 else self.spin.maximum()
        self.spin.setValue(int(round(v)) if self.p.type == "int" else v)
        self._spun(self.spin.value())


class ParamForm(QWidget):
    """The form for one effect's parameters."""

    changed = Signal()

    def __init__(self, params: tuple[Param, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params = params
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for p in params:
            w = self._make(p)
            if p.help:
                w.setToolTip(p.help)
            self.fields[p.name] = w
            form.addRow(f"{p.title}:" if p.type != "bool" else "", w)
            label = form.labelForField(w)
            if label is not None and p.help:
                label.setToolTip(p.help)

    def _make(self, p: Param) -> QWidget:
        if p.type in ("float", "int"):
            w = NumberField(p)
            w.changed.connect(self.changed)
            return w
        if p.type == "bool":
            cb = QCheckBox(p.title)
            cb.setAccessibleName(p.title)
            cb.setChecked(bool(p.default))
            cb.toggled.connect(self.changed)
            return cb
        if p.type == "choice":
            combo = QComboBox()
            combo.setAccessibleName(p.title)
            for c in p.choices:
                combo.addItem(p.choice_title(c), c)
            combo.setCurrentIndex(max(0, combo.findData(p.default)))
            combo.currentIndexChanged.connect(self.changed)
            return combo
        ed = QLineEdit(str(p.default))
        ed.setAccessibleName(p.title)
        ed.editingFinished.connect(self.changed)
        return ed

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.params:
            w = self.fields[p.name]
            if isinstance(w, NumberField):
                out[p.name] = w.value()
            elif isinstance(w, QCheckBox):
                out[p.name] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[p.name] = w.currentData()
            elif isinstance(w, QLineEdit):
                out[p.name] = w.text()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        self.blockSignals(True)
        try:
            for name, v in values.items():
                w = self.fields.get(name)
                if isinstance(w, NumberField):
                    w.set_value(v)
                elif isinstance(w, QCheckBox):
                    w.setChecked(bool(v))
                elif isinstance(w, QComboBox):
                    w.setCurrentIndex(max(0, w.findData(v)))
                elif isinstance(w, QLineEdit):
                    w.setText(str(v))
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def reset(self) -> None:
        self.set_values({p.name: p.default for p in self.params})
