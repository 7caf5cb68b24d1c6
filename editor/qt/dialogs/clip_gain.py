"""Clip Gain…: set the gain of one or more clips in dB (non-destructive)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QWidget,
)

MIN_DB = -60.0
MAX_DB = 24.0


class ClipGainDialog(QDialog):
    """A spin box and a slider (0.1 dB steps) that move together."""

    def __init__(self, gain_db: float, count: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clip Gain" if count == 1 else f"Clip Gain ({count} clips)")
        form = QFormLayout(self)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(MIN_DB, MAX_DB)
        self.spin.setDecimals(1)
        self.spin.setSingleStep(0.5)
        self.spin.setSuffix(" dB")
        self.spin.setAccessibleName("Clip gain in dB")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(MIN_DB * 10), int(MAX_DB * 10))
        self.slider.setAccessibleName("Clip gain slider")
        self.slider.setMinimumWidth(220)
        reset = QPushButton("0 dB")
        reset.setAccessibleName("Reset clip gain")
        reset.clicked.connect(lambda: self.spin.setValue(0.0))
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(reset)
        form.addRow("Gain:", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.spin.valueChanged.connect(lambda v: self.slider.setValue(int(round(v * 10))))
        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / 10))
        self.spin.setValue(float(gain_db))
        self.slider.setValue(int(round(gain_db * 10)))
        self.spin.selectAll()
        self.spin.setFocus()

    def gain_db(self) -> float:
        return round(self.spin.value(), 1)
