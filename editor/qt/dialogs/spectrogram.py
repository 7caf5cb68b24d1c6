"""Spectrogram settings: window size, frequency scale, dB range, colour map."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QWidget

from ..timeline.spectrogram import COLORMAPS, SpectroSettings


class SpectrogramDialog(QDialog):
    def __init__(self, current: SpectroSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Spectrogram settings")
        form = QFormLayout(self)
        self.window = QComboBox()
        self.window.setAccessibleName("Window size")
        for n in (256, 512, 1024, 2048, 4096, 8192):
            self.window.addItem(f"{n} samples", n)
        self.window.setCurrentIndex(self.window.findData(current.window))
        self.scale = QComboBox()
        self.scale.setAccessibleName("Frequency scale")
        for label, v in (("Logarithmic", "log"), ("Linear", "linear"), ("Mel", "mel")):
            self.scale.addItem(label, v)
        self.scale.setCurrentIndex(self.scale.findData(current.scale))
        self.range = QDoubleSpinBox()
        self.range.setAccessibleName("dB range")
        self.range.setRange(20.0, 160.0)
        self.range.setSuffix(" dB")
        self.range.setValue(current.db_range)
        self.cmap = QComboBox()
        self.cmap.setAccessibleName("Colour map")
        for c in COLORMAPS:
            self.cmap.addItem(c, c)
        self.cmap.setCurrentIndex(self.cmap.findData(current.colormap))
        form.addRow("Window:", self.window)
        form.addRow("Frequency scale:", self.scale)
        form.addRow("Range:", self.range)
        form.addRow("Colours:", self.cmap)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def settings(self) -> SpectroSettings:
        return SpectroSettings(self.window.currentData(), self.scale.currentData(), self.range.value(),
                               self.cmap.currentData())
