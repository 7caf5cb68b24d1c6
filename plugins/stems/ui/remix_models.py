"""The remix panel's model choice: which separation model, whether it is installed, Models….

Spleeter is bundled and works offline; the HTDemucs models need their checkpoint
files. A model that is not installed is marked "(not installed)" in the list,
and choosing it shows what is missing and how big it is; the panel then keeps
Separate disabled until the model manager (Models…) has installed it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from editor.core.errors import SeedwaveError
from editor.host import Host

SETTING_MODEL = "remix/model"
DEFAULT_MODEL = "spleeter"
WARN_STYLE = "color: #c77d00;"
ERROR_STYLE = "color: #d04040;"


class ModelChooser(QWidget):
    """Model list, status line and Models… button. ``changed`` fires when the choice or the
    installed state may have changed (the panel then updates its buttons)."""

    changed = Signal()

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Model:"))
        self.combo = QComboBox()
        self.combo.setAccessibleName("Separation model")
        row.addWidget(self.combo, 1)
        self.models_button = QPushButton("Models…")
        self.models_button.setAccessibleName("Open the model manager")
        self.models_button.setToolTip("Download or import separation models")
        self.models_button.clicked.connect(self.open_models)
        row.addWidget(self.models_button)
        lay.addLayout(row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Model status")
        lay.addWidget(self.note)
        self._fill()
        self.combo.currentIndexChanged.connect(self._chosen)
        host.models.changed.connect(self.update_note)  # installed or removed in Models…

    def _fill(self) -> None:
        from seedwave_plugins.stems.catalog import get_model, model_names

        saved = str(self.host.settings.get(SETTING_MODEL, DEFAULT_MODEL) or DEFAULT_MODEL)
        for name in model_names():
            m = get_model(name)
            self.combo.addItem(m.title, name)
            self.combo.setItemData(self.combo.count() - 1, f"{m.description}\n\n{m.licence}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(max(0, self.combo.findData(saved)))
        # The note (which checks the model files) is made when the panel is shown, not at start-up.

    def name(self) -> str:
        return str(self.combo.currentData() or DEFAULT_MODEL)

    def select(self, name: str) -> None:
        self.combo.setCurrentIndex(self.combo.findData(name))

    def installed(self) -> bool:
        from seedwave_plugins.stems.api import model_status

        try:
            return bool(model_status(self.name(), self.host.models.manager())["installed"])
        except SeedwaveError:
            return False

    def update_note(self) -> None:
        """Say whether the chosen model can run, and mark the missing ones in the list."""
        from seedwave_plugins.stems.api import get_model, model_status

        manager = self.host.models.manager()
        for i in range(self.combo.count()):
            m = get_model(self.combo.itemData(i))
            missing = any(not manager.is_installed(f) for f in m.files)
            self.combo.setItemText(i, m.title + (" (not installed)" if missing else ""))
        try:
            st = model_status(self.name(), manager)
        except SeedwaveError as exc:
            self.note.setText(f"⚠ {exc}")
            self.note.setStyleSheet(ERROR_STYLE)
            self.changed.emit()
            return
        if st["installed"]:
            bundled = not get_model(self.name()).files
            self.note.setText("Ready (bundled, works offline)" if bundled else "Installed")
            self.note.setStyleSheet("")
        else:
            n = len(st["missing"])
            files = ", ".join(f.filename for f in st["missing"])
            self.note.setText(f"⚠ {st['title']} needs its model file{'s' if n > 1 else ''} ({files}, "
                              f"{st['download_bytes'] / 1e6:.0f} MB): not installed. "
                              "Use Models… to download or import it.")
            self.note.setStyleSheet(WARN_STYLE)
        self.note.setToolTip(st["description"])
        self.changed.emit()

    def _chosen(self, _index: int) -> None:
        self.host.settings.set(SETTING_MODEL, self.name())
        self.update_note()

    def open_models(self) -> None:
        """The model manager (the note follows ``host.models.changed``)."""
        self.host.models.open_dialog()
