"""Helpers for GUI tests that drive the real main window."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from editor.core.model import Project
from editor.engine.renderer import render


def registry_with(*classes):
    """The installed plugins' effects plus ``classes`` (test effects), for one window:
    tests inject a registry instead of patching the process-wide one."""
    from editor.effects.plugins import plugins
    from editor.effects.registry import Registry

    return Registry.of(classes, found=plugins())


def make_window(qtbot, player=None, effects=None, found=None):
    """A shown main window with modal error boxes turned off (errors go to the status bar).
    ``effects`` (a Registry) and ``found`` (Plugins) replace the installed ones."""
    from editor.qt.main_window import MainWindow
    from editor.qt.settings import Settings

    w = MainWindow(Settings(), player=player, effects=effects, found=found)
    w.modal_errors = False
    w.resize(1200, 700)
    # Not registered with qtbot.addWidget: close_window() closes it after marking the
    # document saved, so no "save changes?" box can block a failing test's teardown.
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def close_window(w) -> None:
    w.document.mark_saved()  # no "save changes?" prompt
    w.shutdown()
    w.close()
    QApplication.processEvents()


def mix(project: Project) -> np.ndarray:
    return render(project, 0, max(1, project.end))


def lane_point(w, frame: int, track_index: int = 0, below_header: int = 40) -> QPoint:
    """Widget coordinates in the lanes for a frame on a track (inside the audio, not the clip name strip)."""
    lanes = w.timeline.lanes
    _t, top, _h = lanes.track_rows()[track_index]
    return QPoint(int(round(w.state.x_of(frame))), int(top + below_header))


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 8, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, a)
    for i in range(1, steps + 1):
        p = QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps)
        qtbot.mouseMove(widget, p)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, b)


def shortcut(qtbot, w, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press a key combination on the window, as a user would."""
    w.activateWindow()
    w.timeline.lanes.setFocus()
    qtbot.keyClick(w.timeline.lanes, key, modifier)


def require_audio(player) -> None:
    """Skip playback checks only where no audio device can exist; under ./dev.sh test the
    PulseAudio null sink is running and SEEDWAVE_REQUIRE_AUDIO=1 makes a missing device a failure."""
    if not player.available:
        if os.environ.get("SEEDWAVE_REQUIRE_AUDIO") == "1":
            pytest.fail(f"no audio output although the null sink should be running: {player.reason}")
        pytest.skip(f"no audio output: {player.reason}")


def wait_until(qtbot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        qtbot.wait(20)
    assert predicate()
