"""Settings > Stems: the stem cache's size limit, its size on disk, and Clear.

Contributed through plugin.toml (``[[contributes.settings]]``). The limit is the
setting ``stems/cache_mb``; a limit the user never chose is the cache's own default.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSpinBox, QWidget

from editor.core.sizes import human_size
from editor.host import Host

from ..cache import stem_cache

SETTING = "stems/cache_mb"


def cache_limit_mb(host: Host) -> int:
    """The stem cache limit: the stored setting, else the cache's own default."""
    if host.settings.contains(SETTING):
        return int(host.settings.get(SETTING, 4096))
    return int(stem_cache().limit_bytes // 2**20)


def apply_cache_limit(host: Host) -> None:
    """Give the cache the limit the user chose (at start-up and when Settings is applied)."""
    if host.settings.contains(SETTING):
        stem_cache().limit_bytes = int(host.settings.get(SETTING, 4096)) * 2**20


class StemCachePage:
    """One tab of the Settings dialog (:class:`editor.host.SettingsPageApi`)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.widget = QWidget()
        form = QFormLayout(self.widget)
        row = QHBoxLayout()
        self.size = QLabel()
        self.size.setAccessibleName("Stem cache size")
        self.limit = QSpinBox()
        self.limit.setAccessibleName("Stem cache limit")
        self.limit.setRange(0, 1_000_000)
        self.limit.setSingleStep(512)
        self.limit.setSuffix(" MB limit")
        self.limit.setToolTip("Separated stems are kept so a clip is separated once; 0 turns the cache off")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setAccessibleName("Clear the stem cache")
        self.clear_button.clicked.connect(lambda: self.clear())
        row.addWidget(self.size, 1)
        row.addWidget(self.limit)
        row.addWidget(self.clear_button)
        form.addRow("Stem cache:", row)

    def load(self) -> None:
        self.limit.setValue(cache_limit_mb(self.host))
        self.refresh()

    def store(self) -> None:
        if self.limit.value() != cache_limit_mb(self.host) or self.host.settings.contains(SETTING):
            self.host.settings.set(SETTING, self.limit.value())
            apply_cache_limit(self.host)

    def refresh(self) -> None:
        self.size.setText(human_size(stem_cache().size_bytes()))

    def clear(self, confirm: bool = True) -> bool:
        cache = stem_cache()
        if confirm:
            answer = QMessageBox.question(
                self.widget, "Settings", f"Delete the cached stems ({human_size(cache.size_bytes())})? "
                "Clips will be separated again when needed.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        cache.clear()
        self.refresh()
        return True
