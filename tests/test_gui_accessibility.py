"""Keyboard and screen reader, in the real window.

The walk: every interactive widget reached through the window's accessibility tree
(``QAccessible.queryAccessibleInterface`` on the window, then ``child(i)`` recursively),
the plugin panels (Remix, Fill), the docks and every dialog the menus open, has a name a
screen reader can speak. Every menu item has a keyboard path, by this rule:

    an action is reachable from the keyboard when it has a shortcut, or when every
    menu on its path (from the menu bar down) and the item itself have a mnemonic
    (Alt+letter opens the menu, a letter picks the item; in a long menu items may share a
    letter, which then moves between them, and Enter picks). Arrow keys alone do not count.

Then tasks done with keys alone: select a region, apply an effect, cancel a job, choose
and apply a Fill take, change a fader.
"""

from __future__ import annotations

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAccessible, QAction
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QWidget

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.jobs.runner import JobState
from editor.qt.accessibility import is_interactive

from .effect_fixtures import ALL, SlowFx
from .gui_helpers import close_window, make_window, registry_with, wait_until

pytestmark = pytest.mark.gui
RATE = 48000
NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier

# Menu items that open a file chooser (Qt's own dialog, not Seedwave's) are not walked.
FILE_CHOOSERS = ("Open…", "Import Audio…", "Save As…", "Import Audio at Cursor…", "Import Model File…")


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot, effects=registry_with(*ALL))
    yield w
    close_window(w)


def _load(qtbot, w, store, seconds: float = 6.0, tracks: int = 2) -> Project:
    rng = np.random.default_rng(3)
    p = Project(sample_rate=RATE)
    for i in range(tracks):
        t = np.arange(int(seconds * RATE)) / RATE
        x = (0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
        x = np.stack([x, x])
        clip = Clip(AudioSeq.from_blocks(store.blocks_from_array(x), x.shape[0]), RATE // 2, name=f"take {i + 1}")
        p = edits.add_track(p, f"Voice {i + 1}", (clip,))
    w.set_project(p)
    qtbot.wait(50)
    w.fit_project()
    return w.project


def _describe(widget: QWidget) -> str:
    chain, p = [], widget
    while p is not None and len(chain) < 5:
        chain.append(f"{type(p).__name__}({p.objectName() or p.accessibleName()})")
        p = p.parentWidget()
    return " < ".join(chain) + (f" tooltip={widget.toolTip()!r}" if widget.toolTip() else "")


def unnamed_controls(root: QWidget) -> list[str]:
    """Interactive widgets in ``root``'s accessibility tree that a screen reader cannot name."""
    seen: set[int] = set()
    missing: list[str] = []
    reached = 0

    def walk(iface, depth: int) -> None:  # noqa: ANN001
        nonlocal reached
        if iface is None or not iface.isValid() or depth > 80:
            return
        obj = iface.object()
        if isinstance(obj, QWidget):
            key = _key(obj)  # not id(): wrappers come and go, and a dead one's id is reused
            if key in seen:
                return
            seen.add(key)
            if is_interactive(obj):
                reached += 1
                if not iface.text(QAccessible.Text.Name).strip():
                    missing.append(_describe(obj))
        for i in range(iface.childCount()):
            walk(iface.child(i), depth + 1)

    walk(QAccessible.queryAccessibleInterface(root), 0)
    assert reached > 0, f"the walk reached no control in {root!r}"
    return missing


def _has_mnemonic(text: str) -> bool:
    t = text.replace("&&", "")
    return "&" in t and t.index("&") + 1 < len(t)


def unreachable_actions(w) -> list[str]:  # noqa: ANN001
    """Menu items with neither a shortcut nor a chain of mnemonics (see the module's rule)."""
    bad: list[str] = []

    def walk(menu: QMenu, path: list[str], chain_ok: bool) -> None:
        for a in menu.actions():
            if a.isSeparator() or not a.isVisible():
                continue
            sub = a.menu()
            ok = chain_ok and _has_mnemonic(a.text())
            if sub is not None:
                walk(sub, [*path, a.text()], ok)
                continue
            if not a.shortcut().isEmpty() or ok:
                continue
            bad.append(" > ".join([*path, a.text()]))

    for top in w.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), [top.text()], _has_mnemonic(top.text()))
    return bad


def _menu_actions(w) -> list[QAction]:  # noqa: ANN001
    out: list[QAction] = []

    def walk(menu: QMenu) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu())
            elif not a.isSeparator():
                out.append(a)

    for top in w.menuBar().actions():
        if top.menu() is not None:
            top.menu().aboutToShow.emit()  # menus filled when opened (recent files, plugins' items)
            walk(top.menu())
    return out


def _key(widget: QWidget) -> int:
    """The C++ address: Python wrappers come and go, and their id() can be reused."""
    return shiboken6.getCppPointer(widget)[0]


_BUILD_TRIES: dict[int, int] = {}


def _walk_new_windows(before: set[int], found: dict[str, list[str]], label: str) -> None:
    modal = QApplication.activeModalWidget()  # an open modal dialog is always new: walk and close it
    for tl in QApplication.topLevelWidgets():
        if (_key(tl) in before and tl is not modal) or not tl.isVisible() or isinstance(tl, QMenu):
            continue
        try:
            missing = unnamed_controls(tl)
        except AssertionError:
            # Shown but not built yet (QInputDialog makes its controls as it is first laid
            # out): walk it on a later tick, giving up after a few.
            tries = _BUILD_TRIES.get(_key(tl), 0) + 1
            _BUILD_TRIES[_key(tl)] = tries
            if tries < 20:
                continue
            raise
        before.add(_key(tl))
        found[f"{label}: {tl.windowTitle()}"] = missing
        if isinstance(tl, QDialog):
            tl.reject()
        else:
            tl.close()


def test_every_control_has_a_name_and_every_menu_item_a_keyboard_path(qtbot, window, store):
    w = window
    _load(qtbot, w, store)
    w.state.set_selection(RATE, 2 * RATE, (w.project.tracks[0].id,))
    w.state.set_clips((w.project.tracks[0].clips[0].id,))
    # The plugin panels and every dock, shown (a hidden panel is still walked, but shown is what users meet).
    for pid in ("stems.remix", "fill.panel"):
        assert w.host.ui.show_panel(pid) is not None, pid
    qtbot.wait(50)
    problems = {"window": unnamed_controls(w)}
    for pid in ("stems.remix", "fill.panel", "history", "mixer", "effects", "jobs"):
        problems[f"panel {pid}"] = unnamed_controls(w.host.ui.panel(pid))

    # Every dialog the menus open ("…" items), walked while it is open, then closed.
    for a in _menu_actions(w):
        text = a.text().replace("&", "")
        if not text.endswith("…") or text in FILE_CHOOSERS or not a.isEnabled():
            continue
        before = {_key(t) for t in QApplication.topLevelWidgets() if t.isVisible()}
        timer = QTimer()
        timer.setInterval(30)
        timer.timeout.connect(lambda b=before, t=text: _walk_new_windows(b, problems, t))
        timer.start()  # a modal dialog is walked from inside its own event loop
        a.trigger()
        qtbot.wait(60)
        _walk_new_windows(before, problems, text)  # a dialog that stays open beside the window
        timer.stop()
    opened = [k for k in problems if "…" in k]
    assert len(opened) >= 6, f"too few dialogs were opened and walked: {opened}"
    assert {k.split(":")[0] for k in opened} >= {"Export…", "Settings…", "Models…", "Plugins…"}, opened
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, "controls without an accessible name:\n" + "\n".join(f"{k}: {v}" for k, v in bad.items())
    assert not unreachable_actions(w), f"menu items with no keyboard path: {unreachable_actions(w)}"
    # Help > Keyboard Shortcuts lists the timeline's key paths.
    listed = dict(w.shortcut_table())
    for name in ("Extend Selection Right", "Select Clip at Cursor", "Move Clip Right", "Apply Effect", "Cancel Job",
                 "Next Panel"):
        assert name in listed, name


def test_fader_and_pan_say_their_values(qtbot, window, store):
    w = window
    _load(qtbot, w, store, tracks=1)
    strip = w.mixer.strips[w.project.tracks[0].id]
    slider = strip.fader.slider
    assert slider.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert slider.accessibleDescription() == "0.0 dB"
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageDown)
    assert w.project.tracks[0].gain_db < 0
    assert slider.accessibleDescription().startswith("minus ") and slider.accessibleDescription().endswith(" dB")
    strip.pan.setFocus()
    qtbot.keyClick(strip.pan, Qt.Key.Key_PageUp)
    wait_until(qtbot, lambda: w.project.tracks[0].pan > 0, timeout=5)  # drag edits are applied on a short timer
    assert strip.pan.accessibleDescription().startswith("right ")
    # Space on a focused Mute button mutes the track (and does not start playback).
    strip.mute_btn.setFocus()
    qtbot.keyClick(strip.mute_btn, Qt.Key.Key_Space)
    assert w.project.tracks[0].mute and not w.player.playing


def test_select_apply_and_cancel_by_keys_with_progress_announced(qtbot, window, store):
    w = window
    p0 = _load(qtbot, w, store, tracks=2)
    lanes = w.timeline.lanes
    lanes.setFocus()
    qtbot.keyClick(lanes, Qt.Key.Key_Down)  # first track
    assert w.state.track_ids == (p0.tracks[0].id,)
    step = w.keys.step
    for _ in range(3):
        qtbot.keyClick(lanes, Qt.Key.Key_Right)
    assert w.state.cursor == 3 * step and not w.state.has_range
    for _ in range(4):
        qtbot.keyClick(lanes, Qt.Key.Key_Right, SHIFT)
    assert (w.state.sel_start, w.state.sel_stop) == (3 * step, 7 * step)
    qtbot.keyClick(lanes, Qt.Key.Key_Left, SHIFT)
    assert (w.state.sel_start, w.state.sel_stop) == (3 * step, 6 * step)
    sel = (w.state.sel_start, w.state.sel_stop)

    # Choose "Test gain" by typing in the effect search, then apply with Ctrl+Return.
    panel = w.effect_panel
    panel.search.setFocus()
    qtbot.keyClicks(panel.search, "test gain")
    qtbot.keyClick(panel.search, Qt.Key.Key_Tab)
    assert panel.list.hasFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Home)
    for _ in range(panel.list.count()):  # arrow down to it, as a user listening to the list would
        if panel.list.currentItem().text() == "Test gain":
            break
        qtbot.keyClick(panel.list, Qt.Key.Key_Down)
    assert panel.list.currentItem().text() == "Test gain"
    assert (w.state.sel_start, w.state.sel_stop) == sel
    n = len(w.document.history.entries) if hasattr(w.document.history, "entries") else None
    with qtbot.waitSignal(w.effects.run_finished, timeout=20000) as sig:
        qtbot.keyClick(panel.list, Qt.Key.Key_Return, CTRL)
    assert sig.args[0].state is JobState.DONE
    assert w.job_announcer.last.endswith(" finished") and "Test gain" in w.job_announcer.last
    assert w.status_jobs.text() == w.job_announcer.last
    a, b = sel
    before = p0.tracks[0]
    after = w.project.tracks[0]
    assert after is not before and w.project.tracks[1] is p0.tracks[1]
    if n is not None:
        assert len(w.document.history.entries) == n + 1

    # A slow effect, cancelled with Shift+Esc; its progress was announced on the way.
    SlowFx.steps_after_cancel = 0
    panel.select_effect("test_slow")
    lanes.setFocus()
    said: list[str] = []
    w.job_announcer.STEP = 0.05
    with qtbot.waitSignal(w.jobs.job_added, timeout=5000):
        qtbot.keyClick(lanes, Qt.Key.Key_Return, CTRL)
    wait_until(qtbot, lambda: "%" in w.job_announcer.last, timeout=20)
    said.append(w.job_announcer.last)
    assert said[0].startswith("Test slow: ") and w.status_jobs.accessibleName() == said[0]
    with qtbot.waitSignal(w.jobs.job_ended, timeout=20000) as ended:
        qtbot.keyClick(lanes, Qt.Key.Key_Escape, SHIFT)
    assert ended.args[0].state is JobState.CANCELLED
    assert w.job_announcer.last == "Test slow cancelled"
    assert w.project.tracks[0] is after, "a cancelled effect changes nothing"


def test_clip_move_and_trim_by_keys(qtbot, window, store):
    w = window
    p0 = _load(qtbot, w, store, tracks=1)
    lanes = w.timeline.lanes
    lanes.setFocus()
    clip0 = p0.tracks[0].clips[0]
    qtbot.keyClick(lanes, Qt.Key.Key_Right, CTRL)  # to the clip's start
    assert w.state.cursor == clip0.position
    qtbot.keyClick(lanes, Qt.Key.Key_C, CTRL | SHIFT)
    assert w.state.clip_ids == (clip0.id,)
    assert (w.state.sel_start, w.state.sel_stop) == (clip0.position, clip0.end)
    step = w.keys.step
    qtbot.keyClick(lanes, Qt.Key.Key_Right, CTRL | Qt.KeyboardModifier.AltModifier)
    c = w.project.tracks[0].clips[0]
    assert c.position == clip0.position + step and c.length == clip0.length
    qtbot.keyClick(lanes, Qt.Key.Key_Left, CTRL | Qt.KeyboardModifier.AltModifier | SHIFT)
    c2 = w.project.tracks[0].clips[0]
    assert c2.position == c.position and c2.end == c.end - step
    w.document.undo()
    w.document.undo()
    assert w.project.tracks[0].clips[0].position == clip0.position


def test_find_choose_and_apply_a_fill_take_by_keys(qtbot, window, store):
    from seedwave_plugins.fill.ui.fill_session import ORIGINAL

    from .test_gui_fill import music_loop

    w = window
    x = music_loop()
    gap = (int(3.37 * RATE), int(3.62 * RATE))
    x[:, gap[0]:gap[1]] = 0.0  # a dropout
    p = Project(sample_rate=RATE)
    clip = Clip(AudioSeq.from_blocks(store.blocks_from_array(x), x.shape[0]), 0, name="loop")
    w.set_project(edits.add_track(p, "Music", (clip,)))
    qtbot.wait(50)
    w.fit_project()
    entries0 = len(w.document.history.entries)
    w.state.set_selection(*gap, (w.project.tracks[0].id,))
    panel = w.host.ui.panel("fill.panel")
    lanes = w.timeline.lanes
    lanes.setFocus()
    with qtbot.waitSignal(panel.s.run_finished, timeout=60000) as sig:
        qtbot.keyClick(lanes, Qt.Key.Key_F, CTRL | Qt.KeyboardModifier.AltModifier)  # Fill Selection…
    assert sig.args[0].state is JobState.DONE
    assert w.job_announcer.last.endswith("finished")
    # The take list is reached with the keyboard; its name and key help are there for a screen reader.
    lst = panel.list
    lst.setFocus()
    assert lst.accessibleName() == "Take list" and "Enter applies" in lst.accessibleDescription()
    qtbot.keyClick(lst, Qt.Key.Key_Home)
    assert panel.s.choice == ORIGINAL
    qtbot.keyClick(lst, Qt.Key.Key_Down)
    qtbot.keyClick(lst, Qt.Key.Key_Down)
    assert lst.currentRow() == 2 and panel.s.choice == 1
    qtbot.keyClick(lst, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: len(w.document.history.entries) == entries0 + 1, timeout=10)
    assert w.document.history.entry.meta["take"] == 2


def test_f6_moves_the_focus_between_the_timeline_and_the_panels(qtbot, window):
    w = window
    w.timeline.lanes.setFocus()
    visited = []
    for _ in range(4):
        qtbot.keyClick(w.focusWidget() or w, Qt.Key.Key_F6)
        f = w.focusWidget()
        assert f is not None and f.hasFocus()
        visited.append(f)
    docks = [d for d in w.findChildren(QWidget) if type(d).__name__ == "QDockWidget" and d.isAncestorOf(visited[0])]
    assert docks, "F6 moved the focus into a panel"
    qtbot.keyClick(w.focusWidget(), Qt.Key.Key_F6, CTRL)
    assert w.timeline.lanes.hasFocus()


def test_track_headers_made_again_and_again_keep_named_choice_lists(qtbot, window, store):
    """Track headers are rebuilt on every load; each new view-mode box's pop-up list is named
    too (a widget made later can reuse the memory of one that is gone)."""
    w = window
    for i in range(12):
        _load(qtbot, w, store, seconds=1.0, tracks=1 + i % 3)
        assert unnamed_controls(w) == [], f"load {i + 1}"
    combos = [h.mode for h in w.findChildren(QWidget) if type(h).__name__ == "TrackHeader" and h.isVisible()]
    assert combos and all(c.view().accessibleName().endswith(" choices") for c in combos)
