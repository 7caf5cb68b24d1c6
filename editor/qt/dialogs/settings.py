"""Settings (Edit > Settings…, Ctrl+,) and the status-bar line naming the AI device.

The dialog edits what :class:`~editor.qt.settings.Settings` stores and applies it
to the running window: audio output device and buffer size (the window's
Player), AI device policy, model folder (with its size and a Clear button), the
theme, autosave interval and the default export format.

Finding out which AI device exists means importing torch (seconds), so it never
happens at start-up: :class:`DeviceProbe` runs :func:`editor.effects.device.detect`
once, in a child process, a moment after the window shows (or when this dialog
opens), and everyone interested listens to its ``ready`` signal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.sizes import human_size
from ..settings import Settings
from ..theme import apply_theme

BUFFER_SIZES = (128, 256, 512, 1024, 2048, 4096)
AI_DEVICES = (("auto", "Auto (GPU if available)"), ("cuda", "GPU (CUDA)"), ("cpu", "CPU"))
THEMES = (("system", "Follow the system"), ("dark", "Dark"), ("light", "Light"))
DETECT_DELAY_MS = 1500


# ---------------------------------------------------------------------------------------------- AI device
PROBE_FLAG = "--seedwave-probe-device"  # understood by the standalone build's launcher
PROBE_CODE = ("import dataclasses, json; from editor.effects.device import detect; "
              "print(json.dumps(dataclasses.asdict(detect())))")
PROBE_TIMEOUT_MS = 120_000


def probe_command() -> list[str]:
    """The command that prints this machine's DeviceReport as JSON."""
    if getattr(sys, "frozen", False):
        return [sys.executable, PROBE_FLAG]
    return [sys.executable, "-c", PROBE_CODE]


class DeviceProbe(QObject):
    """Finds the AI device once per run, in a child process.

    ``detect()`` imports torch: seconds of work, much of it (loading libtorch)
    holding the GIL, which would starve the audio callback of a thread in this
    process. A child process costs the same CPU time but never stalls playback.
    """

    ready = Signal(object)  # DeviceReport

    _instance: DeviceProbe | None = None

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None
        self.error = ""
        self._proc: QProcess | None = None

    @classmethod
    def shared(cls) -> DeviceProbe:
        if cls._instance is None:
            app = QApplication.instance()
            cls._instance = cls()
            cls._instance.setParent(app)
            app.aboutToQuit.connect(cls._instance.stop)
        return cls._instance

    @property
    def running(self) -> bool:
        return self._proc is not None

    def start(self) -> None:
        """Begin detection (no-op while it runs; re-announces a finished result)."""
        if self.report is not None:
            self.ready.emit(self.report)
            return
        if self._proc is not None:
            return
        cmd = probe_command()
        proc = QProcess(self)
        proc.setProgram(cmd[0])
        proc.setArguments(cmd[1:])
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._failed)
        self._proc = proc
        QTimer.singleShot(PROBE_TIMEOUT_MS, proc, proc.kill)
        proc.start()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.waitForFinished(2000)

    def _finished(self, code: int, _status: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        out = bytes(proc.readAllStandardOutput()).decode("utf-8", "replace").strip().splitlines()
        err = bytes(proc.readAllStandardError()).decode("utf-8", "replace").strip()
        proc.deleteLater()
        self._set(out[-1] if out and code == 0 else "", err or f"exit status {code}")

    def _failed(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._proc is not None:
            proc, self._proc = self._proc, None
            proc.deleteLater()
            self._set("", proc.errorString())

    def _set(self, line: str, error: str) -> None:
        from ...effects.device import DeviceReport, remember_report

        try:
            report = DeviceReport(**json.loads(line))
        except (ValueError, TypeError):  # torch missing or broken: effects run on the CPU
            self.error = error
            report = DeviceReport(False, False)
        else:  # what detect() found: GPU jobs stop queueing for a GPU slot this machine lacks
            remember_report(report)
        self.report = report
        self.ready.emit(report)


def device_line(policy: str, report: Any | None) -> str:
    """The status-bar text for ``policy`` ("auto", "cuda", "cpu") given what was detected."""
    if policy == "cpu":
        return "AI: CPU (chosen in Settings)"
    if report is None:
        return "AI: detecting…" if policy == "auto" else "AI: GPU (detecting…)"
    if report.cuda:
        return f"AI: {report.describe()}"
    if policy == "auto" and report.mps:
        return f"AI: {report.describe()}"
    return "AI: CPU (no GPU found)" if policy == "auto" else "AI: CPU (no CUDA GPU found)"


class DeviceStatus(QObject):
    """Keeps ``window.status_device`` saying which device AI effects use."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.probe = DeviceProbe.shared()
        self.probe.ready.connect(self._ready)
        self.refresh()

    def _ready(self, _report: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        policy = self.window.settings.get("ai/device")
        label = self.window.status_device
        label.setText(device_line(policy, self.probe.report))
        label.setToolTip("Where AI effects run; change it in Edit > Settings")

    def start_detection(self) -> None:
        if self.window.isVisible() and self.window.settings.get("ai/device") != "cpu":
            self.probe.start()


# ---------------------------------------------------------------------------------------------- models
# ---------------------------------------------------------------------------------------------- dialog
class SettingsDialog(QDialog):
    """Edits the settings; OK and Apply store and apply them."""

    applied = Signal()

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.settings: Settings = window.settings
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.resize(560, 440)
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._audio_page(), "Audio")
        from .record_settings import RecordSettingsPage

        self.record_page = RecordSettingsPage(window, self)
        self.tabs.addTab(self.record_page.widget, "Recording")
        self.tabs.addTab(self._ai_page(), "AI and models")
        self.tabs.addTab(self._general_page(), "General")
        # Pages that plugins contribute (plugin.toml [[contributes.settings]]), by id.
        self.pages: dict[str, Any] = {}
        for page_id, title, page in window.plugin_ui.make_settings_pages():
            self.pages[page_id] = page
            self.tabs.addTab(page.widget, title)
        lay.addWidget(self.tabs)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                              | QDialogButtonBox.StandardButton.Apply)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        bb.clicked.connect(self._clicked)
        self.buttons = bb
        lay.addWidget(bb)
        self.load()
        self.probe = DeviceProbe.shared()
        self.probe.ready.connect(self._detected)
        if self.probe.report is not None:
            self._detected(self.probe.report)
        else:
            self.probe.start()

    # -- pages --------------------------------------------------------------------------------
    def _audio_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.audio_device = QComboBox()
        self.audio_device.setAccessibleName("Audio output device")
        self.audio_device.addItem("System default", "")
        from ...engine.playback import output_devices

        for name in output_devices():
            self.audio_device.addItem(name, name)
        form.addRow("Output device:", self.audio_device)
        self.buffer_size = QComboBox()
        self.buffer_size.setAccessibleName("Audio buffer size")
        for n in BUFFER_SIZES:
            self.buffer_size.addItem(f"{n} frames", n)
        self.buffer_size.setToolTip("Smaller: less delay between a change and hearing it; larger: fewer dropouts")
        form.addRow("Buffer size:", self.buffer_size)
        player = self.window.player
        note = QLabel("" if player.available else f"Playback is unavailable: {player.reason}")
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _ai_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.ai_device = QComboBox()
        self.ai_device.setAccessibleName("AI device")
        for key, text in AI_DEVICES:
            self.ai_device.addItem(text, key)
        form.addRow("Run AI effects on:", self.ai_device)
        self.detected = QLabel("Detecting…")
        self.detected.setAccessibleName("Detected AI hardware")
        form.addRow("Detected:", self.detected)

        row = QHBoxLayout()
        self.models_folder = QLineEdit()
        self.models_folder.setAccessibleName("Model folder")
        self.models_folder.setPlaceholderText(str(self._default_models_dir()))
        self.models_folder.editingFinished.connect(self._refresh_sizes)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_models)
        row.addWidget(self.models_folder, 1)
        row.addWidget(browse)
        form.addRow("Model folder:", row)
        row = QHBoxLayout()
        self.models_size = QLabel()
        self.models_size.setAccessibleName("Model folder size")
        self.clear_models_button = QPushButton("Clear downloaded models")
        self.clear_models_button.setToolTip("Delete downloaded and imported models (models shipped with Seedwave stay)")
        self.clear_models_button.clicked.connect(lambda: self.clear_models())
        row.addWidget(self.models_size, 1)
        row.addWidget(self.clear_models_button)
        form.addRow("Models on disk:", row)

        return page

    def _general_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for key, text in THEMES:
            self.theme.addItem(text, key)
        form.addRow("Theme:", self.theme)
        self.autosave = QSpinBox()
        self.autosave.setAccessibleName("Autosave interval")
        self.autosave.setRange(5, 3600)
        self.autosave.setSuffix(" s")
        self.autosave.setToolTip("How often unsaved work is written to the crash-recovery journal")
        form.addRow("Autosave every:", self.autosave)
        self.export_format = QComboBox()
        self.export_format.setAccessibleName("Default export format")
        from ...engine.export import FORMATS

        for key, spec in FORMATS.items():
            self.export_format.addItem(spec.title, key)
        form.addRow("Default export format:", self.export_format)
        return page

    # -- values -------------------------------------------------------------------------------
    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        i = combo.findData(value)
        if i < 0 and isinstance(value, str) and value:  # a device that is not connected now
            combo.addItem(f"{value} (not found)", value)
            i = combo.count() - 1
        combo.setCurrentIndex(max(0, i))

    def load(self) -> None:
        s = self.settings
        self._select(self.audio_device, s.get("audio/device"))
        self._select(self.buffer_size, s.get("audio/blocksize"))
        self._select(self.ai_device, s.get("ai/device"))
        self.models_folder.setText(s.get("models/folder"))
        self._select(self.theme, s.get("ui/theme"))
        self.autosave.setValue(s.get("autosave/interval_s"))
        self._select(self.export_format, s.get("export/format"))
        self._refresh_sizes()
        self.record_page.load()
        for page in self.pages.values():
            page.load()

    def values(self) -> dict[str, Any]:
        return {
            "audio/device": self.audio_device.currentData() or "",
            "audio/blocksize": int(self.buffer_size.currentData()),
            "ai/device": self.ai_device.currentData(),
            "models/folder": self.models_folder.text().strip(),
            "ui/theme": self.theme.currentData(),
            "autosave/interval_s": self.autosave.value(),
            "export/format": self.export_format.currentData(),
        }

    def apply(self) -> None:
        """Store the values and apply them to the running window."""
        old = {k: self.settings.get(k) for k in self.values()}
        new = self.values()
        for k, v in new.items():
            self.settings.set(k, v)
        self.record_page.store()
        for page in self.pages.values():
            page.store()
        apply_settings(self.window, changed={k for k in new if new[k] != old[k]})
        self.applied.emit()

    def accept(self) -> None:
        self.apply()
        super().accept()

    def _clicked(self, button: QAbstractButton) -> None:
        if self.buttons.buttonRole(button) == QDialogButtonBox.ButtonRole.ApplyRole:
            self.apply()

    # -- folders and caches ---------------------------------------------------------------------
    @staticmethod
    def _default_models_dir() -> Path:
        """The folder models go to when the setting is empty."""
        from ...effects.models import default_model_dir

        return default_model_dir()

    def models_dir(self) -> Path:
        """The model folder the fields describe now."""
        text = self.models_folder.text().strip()
        return Path(text) if text else self._default_models_dir()

    def _browse_models(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", str(self.models_dir()))
        if folder:
            self.models_folder.setText(folder)
            self._refresh_sizes()

    def _refresh_sizes(self) -> None:
        from ...effects.models import ModelManager

        self.models_size.setText(human_size(ModelManager(self.models_dir()).size_on_disk()))

    def _confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Settings", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def clear_models(self, confirm: bool = True) -> bool:
        from ...effects.models import ModelManager

        manager = ModelManager(self.models_dir())
        size = manager.size_on_disk()
        if confirm and not self._confirm(f"Delete the downloaded models in {manager.folder} ({human_size(size)})? "
                                         "Effects that need them will ask for them again."):
            return False
        manager.clear()
        self._refresh_sizes()
        return True

    def _detected(self, report: object) -> None:
        text = report.describe()  # type: ignore[attr-defined]
        version = getattr(report, "torch_version", "")
        if version:
            self.detected.setText(f"{text}; torch {version}")
        else:
            self.detected.setText(f"{text}; torch is not available")
            self.detected.setToolTip(self.probe.error[-2000:])


def apply_settings(window: Any, changed: set[str] | None = None) -> None:
    """Make the running window follow the stored settings (``changed``: only these keys)."""
    s: Settings = window.settings

    def want(key: str) -> bool:
        return changed is None or key in changed

    if want("ui/theme"):
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, s.get("ui/theme"))
    if want("autosave/interval_s"):
        window.set_autosave_interval(s.get("autosave/interval_s"))
    if want("audio/device") or want("audio/blocksize"):
        player = window.player
        if player.playing:
            window.stop()
        player.device = s.get("audio/device") or None
        player.blocksize = s.get("audio/blocksize")
        window.update_audio_status()
    status = window.device_status
    if want("ai/device"):
        status.refresh()
        status.start_detection()


def open_settings(window: Any) -> SettingsDialog:
    """Show the dialog (modal, but without a nested event loop) and return it."""
    dlg = SettingsDialog(window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.setModal(True)
    dlg.show()
    return dlg


def install(window: Any) -> None:
    """Edit > Settings… (Ctrl+,), the AI-device status line, and the stored model/cache settings."""
    window.act_settings = window.action("&Settings…", lambda: open_settings(window), "Ctrl+,",
                                         "Audio devices, recording input, AI device, models, theme, autosave, export")
    window.act_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    window.menu_edit.addSeparator()
    window.menu_edit.addAction(window.act_settings)
    status = DeviceStatus(window)
    window.device_status = status
    # After the window shows and the first project starts loading; the timer dies with the window.
    QTimer.singleShot(DETECT_DELAY_MS, status, status.start_detection)
