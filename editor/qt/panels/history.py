"""History panel: every labelled state; click one to jump there."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ..document import Document


def describe_meta(meta: dict) -> str:
    """Provenance of a step as readable lines (effect, version, model, parameters, device)."""
    if not meta:
        return ""
    lines = []
    for key in ("effect", "version", "engine", "model", "model_sha256", "device", "device_fallback", "take"):
        if key in meta:
            lines.append(f"{key}: {meta[key]}")
    if "params" in meta:
        lines.append("parameters: " + json.dumps(meta["params"], default=str))
    for k, v in meta.items():
        if k not in ("effect", "version", "engine", "model", "model_sha256", "device", "device_fallback", "take",
                     "params"):
            lines.append(f"{k}: {v}")
    return "\n".join(lines)


class HistoryPanel(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setAccessibleName("History")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.list = QListWidget()
        self.list.setAccessibleName("History steps")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Step details")
        lay.addWidget(self.list, 1)
        lay.addWidget(self.details)
        self.list.itemClicked.connect(self._clicked)
        self.list.currentRowChanged.connect(self._show_details)
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        self.document = document
        document.history_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        h = self.document.history
        self.list.blockSignals(True)
        self.list.clear()
        for i, e in enumerate(h.entries):
            item = QListWidgetItem(e.label)
            item.setData(Qt.ItemDataRole.UserRole, i)
            tip = describe_meta(e.meta)
            if tip:
                item.setToolTip(tip)
                item.setText(e.label + "  ⓘ")
            if i > h.index:
                item.setForeground(self.palette().placeholderText())
            self.list.addItem(item)
        self.list.setCurrentRow(h.index)
        self.list.blockSignals(False)
        self._show_details(h.index)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.document.history.jump(int(item.data(Qt.ItemDataRole.UserRole)))

    def _show_details(self, row: int) -> None:
        h = self.document.history
        if 0 <= row < len(h.entries):
            self.details.setText(describe_meta(h.entries[row].meta))
