"""Small dialogs for gain, fades and normalize, each with a Preview button.

Preview renders the first few seconds of the selection with the edit applied to
a scratch copy of the project and plays it; the document is not touched.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QWidget,
)

from ...core.model import FadeShape

SHAPES = (
    ("Equal power", FadeShape.EQUAL_POWER),
    ("Linear", FadeShape.LINEAR),
    ("Exponential (slow start)", FadeShape.EXPONENTIAL),
    ("Logarithmic (fast start)", FadeShape.LOGARITHMIC),
    ("S-curve", FadeShape.S_CURVE),
)


class _PreviewDialog(QDialog):
    def __init__(self, title: str, preview: Callable[[dict], None] | None, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply")
        self.preview_button = QPushButton("Preview")
        self.preview_button.setAccessibleName("Preview")
        self.preview_button.setEnabled(preview is not None)
        self.buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        self._preview = preview
        self.preview_button.clicked.connect(lambda: self._preview and self._preview(self.values()))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self.form.addRow(self.buttons)

    def values(self) -> dict:  # pragma: no cover - overridden
        return {}


class GainDialog(_PreviewDialog):
    def __init__(self, preview=None, parent=None) -> None:  # noqa: ANN001
        super().__init__("Gain", preview, parent)
        self.gain = QDoubleSpinBox()
        self.gain.setRange(-60.0, 40.0)
        self.gain.setDecimals(2)
        self.gain.setSuffix(" dB")
        self.gain.setAccessibleName("Gain in dB")
        self.form.addRow("Gain:", self.gain)
        self.finish_layout()

    def values(self) -> dict:
        return {"gain_db": self.gain.value()}


class FadeDialog(_PreviewDialog):
    def __init__(self, fade_in: bool, preview=None, parent=None) -> None:  # noqa: ANN001
        super().__init__("Fade in" if fade_in else "Fade out", preview, parent)
        self.fade_in = fade_in
        self.shape = QComboBox()
        self.shape.setAccessibleName("Fade shape")
        for label, shape in SHAPES:
            self.shape.addItem(label, shape)
        self.form.addRow("Shape:", self.shape)
        self.finish_layout()

    def values(self) -> dict:
        return {"fade_in": self.fade_in, "shape": self.shape.currentData()}


class NormalizeDialog(_PreviewDialog):
    def __init__(self, preview=None, parent=None) -> None:  # noqa: ANN001
        super().__init__("Normalize", preview, parent)
        self.mode = QComboBox()
        self.mode.setAccessibleName("Normalize to")
        self.mode.addItem("Peak (dBFS)", "peak")
        self.mode.addItem("Loudness (LUFS, integrated)", "lufs")
        self.target = QDoubleSpinBox()
        self.target.setAccessibleName("Target level")
        self.target.setRange(-70.0, 0.0)
        self.target.setDecimals(1)
        self.target.setValue(-1.0)
        self.form.addRow("Normalize:", self.mode)
        self.form.addRow("Target:", self.target)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.finish_layout()

    def _mode_changed(self) -> None:
        self.target.setValue(-1.0 if self.mode.currentData() == "peak" else -16.0)

    def values(self) -> dict:
        return {"mode": self.mode.currentData(), "target": self.target.value()}
