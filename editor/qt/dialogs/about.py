"""About and keyboard shortcut dialogs."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ... import __version__


def version_lines() -> list[str]:
    lines = [f"Seedwave {__version__}", f"Python {platform.python_version()}",
             f"Qt {qVersion()} (PySide6 {pyside_version})"]
    try:
        from importlib.metadata import version

        lines.append(f"torch {version('torch')}")
    except Exception:  # noqa: BLE001
        lines.append("torch: not installed")
    return lines


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Seedwave")
        lay = QVBoxLayout(self)
        self.text = QLabel("<br>".join(version_lines()))
        self.text.setAccessibleName("Versions")
        lay.addWidget(self.text)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(520, 600)
        lay = QVBoxLayout(self)
        extra = [("Zoom around the mouse", "Ctrl+Wheel"), ("Scroll time", "Wheel"),
                 ("Scroll tracks", "Shift+Wheel"), ("Extend selection", "Shift+Click")]
        rows = sorted(rows + extra)
        self.table = QTableWidget(len(rows), 2)
        self.table.setAccessibleName("Shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        for i, (name, keys) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        lay.addWidget(self.table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
