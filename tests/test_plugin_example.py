"""The example plugin of docs/PLUGINS.md (examples/seedwave-echo), installed as a user
would install a third-party plugin, into a fresh virtual environment: its manifest is
found through the entry point, its effect runs on the command line, and its panel,
menu command and context-menu item work in the real main window."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.effects.plugins import discover
from editor.effects.registry import Registry

from .gui_helpers import close_window, make_window, mix

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seedwave-echo"
RATE = 48000


@pytest.fixture(scope="module")
def echo_venv(tmp_path_factory) -> Path:
    """A fresh venv that sees this environment's packages (Seedwave included), with the
    example plugin installed into it by pip."""
    venv = tmp_path_factory.mktemp("plugin") / "venv"
    # No pip or setuptools of its own: this environment's (seen through the .pth below) build and install.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    here = sysconfig.get_paths()["purelib"]
    # Process this environment's .pth files too (the editable install of Seedwave).
    (site / "_seedwave_dev.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--no-index", str(EXAMPLE)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=venv)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert not (site / "seedwave_echo").is_symlink() and (site / "seedwave_echo" / "plugin.toml").is_file()
    return venv


def _site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def test_the_installed_plugin_runs_on_the_command_line(echo_venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    src, out = tmp_path / "click.wav", tmp_path / "echo.wav"
    x = np.zeros((RATE // 2, 1), np.float32)
    x[0] = 0.5
    sf.write(src, x, RATE, subtype="FLOAT")
    run = subprocess.run([str(echo_venv / "bin" / "python"), "-m", "editor.cli", "echo", str(src), str(out),
                          "--delay-ms", "100"], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    y, rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == RATE and y[0, 0] == pytest.approx(0.5)
    assert y[RATE // 10, 0] == pytest.approx(0.5 * 0.4, abs=1e-6)  # the first repeat, 100 ms later
    # Without the plugin (this environment), the verb does not exist.
    from editor.cli import plugin_verbs

    assert "echo" not in plugin_verbs()


def test_the_installed_plugin_panel_works_in_the_main_window(echo_venv, qtbot, store, monkeypatch):
    monkeypatch.syspath_prepend(str(_site(echo_venv)))  # this process now sees what the venv installed
    found = discover()
    assert "echo" in [m.name for m in found.manifests], found.problems
    assert "seedwave_echo.panel" not in sys.modules, "reading a manifest imports no plugin code"
    w = make_window(qtbot, effects=Registry(found), found=found)
    try:
        panel = w.host.ui.panel("echo.panel")
        assert panel is not None and panel.accessibleName() == "Echo"
        assert "example_echo" in w.registry.ids()
        # Effects > Echo Panel shows it (tabbed beside the effect panel).
        show = next(a for a in w.menus["Effects"].actions() if a.text() == "&Echo Panel")
        show.trigger()
        assert panel.isVisible()
        assert "Select a time range" in panel.selection.text() and not panel.apply_button.isEnabled()

        x = np.zeros((1, RATE), np.float32)
        x[0, 0] = 0.5
        seq = AudioSeq.from_blocks(store.blocks_from_array(x), 1)
        w.set_project(edits.add_track(Project(sample_rate=RATE), "Click", (Clip(seq, 0),)))
        tid = w.project.tracks[0].id
        w.state.set_selection(0, RATE // 2, (tid,))
        assert panel.apply_button.isEnabled() and "on 1 track" in panel.selection.text()
        panel.form.set_values({"delay_ms": 100.0, "feedback": 0.5, "repeats": 2})
        entries = len(w.document.history.entries)
        with qtbot.waitSignal(w.effects.run_finished, timeout=60000) as sig:
            qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
        assert sig.args[0].state.value == "done"
        assert len(w.document.history.entries) == entries + 1  # one undo step
        y = mix(w.project)
        assert y[0, RATE // 10] == pytest.approx(0.25, abs=1e-6) and y[0, RATE // 5] == pytest.approx(0.125, abs=1e-6)
        w.document.undo()
        assert mix(w.project)[0, RATE // 10] == 0.0

        # Its command: in the Audio menu, with its shortcut, and in the timeline's context menu.
        quick = w.plugin_ui.actions["echo.quick"]
        assert quick in w.menus["Audio"].actions() and quick.shortcut().toString() == "Ctrl+Alt+E"
        m = QMenu(w)
        w._extend_menu(m, "timeline")
        assert quick in m.actions()
        m.deleteLater()
        assert ("Quick Echo", "Ctrl+Alt+E") in w.shortcut_table()
        with qtbot.waitSignal(w.effects.run_finished, timeout=60000):
            quick.trigger()
        assert mix(w.project)[0, RATE // 4] == pytest.approx(0.5 * 0.4, abs=1e-6)  # the default 250 ms echo
    finally:
        close_window(w)
