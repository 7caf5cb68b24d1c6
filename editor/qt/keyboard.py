"""Keyboard paths for what otherwise needs the mouse (installed by the main window).

Timeline (keys work while the timeline has focus; every item is also in
Edit > Cursor and Selection / Edit > Clip by Keys):

* Left / Right move the cursor by one grid step (the ruler's minor tick at this zoom),
  Shift+Left / Shift+Right extend the selection, Shift+Home / Shift+End select to the
  start / end, Ctrl+Left / Ctrl+Right jump to the previous / next clip edge;
* Up / Down select the track above / below, Shift+Up / Shift+Down add it to the selection;
* Ctrl+Shift+C selects the clip under the cursor (and its time range);
* Ctrl+Alt+Left / Right move the selected clips by a grid step, Ctrl+Alt+Shift+Left /
  Right move their end edge, Ctrl+Alt+[ / ] trim their start / end to the cursor.

Anywhere in the window: Effects > Apply Effect (Ctrl+Return), Preview Effect
(Ctrl+Shift+Return), Cancel Job (Shift+Esc); View > Next Panel (F6) and Focus Timeline
(Ctrl+F6) move the keyboard focus between the timeline and the docks.
Each key move is announced to screen readers (see :mod:`.accessibility`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from ..core import edits
from ..core.timefmt import format_hms
from .accessibility import announce
from .timeline.snapping import grid_step

if TYPE_CHECKING:
    from .main_window import MainWindow


class TimelineKeys:
    """The timeline's keyboard actions for one window."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.anchor: int | None = None  # the fixed end of a selection being extended by keys

    # -- helpers ------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        st = self.w.state
        return max(1, int(round(grid_step(st.fpp, self.w.project.sample_rate))))

    def _time(self, frame: int) -> str:
        return format_hms(frame, self.w.project.sample_rate)

    def _say(self, text: str) -> None:
        self.w.statusBar().showMessage(text, 4000)
        announce(text, self.w.timeline.lanes)

    def _tracks(self) -> list:
        sel = set(self.w.state.track_ids)
        tracks = [t for t in self.w.project.tracks if t.id in sel]
        return tracks or list(self.w.project.tracks)

    def _snapped(self, frame: float) -> int:
        s = self.step
        return max(0, int(round(round(frame / s) * s)))

    # -- cursor and selection -----------------------------------------------------------------
    def move(self, direction: int) -> None:
        st = self.w.state
        base = st.cursor if not st.has_range else (st.sel_start if direction < 0 else st.sel_stop)
        frame = self._snapped(base + direction * self.step)
        self.anchor = None
        self.w.move_cursor(frame)
        self._say(f"Cursor {self._time(frame)}")

    def extend_to(self, frame: int) -> None:
        st = self.w.state
        if self.anchor is None or not st.has_range or self.anchor not in (st.sel_start, st.sel_stop):
            self.anchor = st.cursor
        frame = max(0, frame)
        st.set_cursor(frame)
        st.set_selection(self.anchor, frame)
        self.w.timeline.ensure_visible(frame)
        self._say(f"Selection {self._time(st.sel_start)} to {self._time(st.sel_stop)}, "
                  f"length {self._time(st.sel_stop - st.sel_start)}")

    def extend(self, direction: int) -> None:
        self.extend_to(self._snapped(self.w.state.cursor + direction * self.step))

    def edges(self) -> list[int]:
        out = set()
        for t in self._tracks():
            for c in t.clips:
                out.update((c.position, c.end))
        return sorted(out)

    def jump_edge(self, direction: int) -> None:
        here = self.w.state.cursor
        edges = [e for e in self.edges() if (e > here if direction > 0 else e < here)]
        if not edges:
            self._say("No clip edge " + ("after" if direction > 0 else "before") + " the cursor")
            return
        frame = edges[0] if direction > 0 else edges[-1]
        self.w.move_cursor(frame)
        self._say(f"Clip edge {self._time(frame)}")

    def select_track(self, direction: int, add: bool = False) -> None:
        tracks = self.w.project.tracks
        if not tracks:
            return
        st = self.w.state
        ids = [t.id for t in tracks]
        current = [i for i, t in enumerate(ids) if t in st.track_ids]
        if not current:
            i = 0 if direction > 0 else len(ids) - 1
        else:
            i = min(len(ids) - 1, max(0, (current[-1] if direction > 0 else current[0]) + direction))
        chosen = tuple(t for t in ids if t in st.track_ids or t == ids[i]) if add else (ids[i],)
        st.set_selection(st.sel_start, st.sel_stop, chosen)
        names = ", ".join(t.name for t in tracks if t.id in chosen)
        self._say(f"Track {names} selected")

    def select_clip(self) -> None:
        here = self.w.state.cursor
        for t in self._tracks():
            for c in t.clips:
                if c.position <= here < c.end:
                    st = self.w.state
                    st.set_selection(c.position, c.end, (t.id,))
                    st.set_clips((c.id,))
                    self._say(f"Clip {c.name or ''} on {t.name} selected, {self._time(c.position)} "
                              f"to {self._time(c.end)}".replace("Clip  on", "Clip on"))
                    return
        self._say("No clip under the cursor")

    # -- clips ---------------------------------------------------------------------------------
    def _clips(self) -> list:
        ids = set(self.w.state.clip_ids)
        found = [c for t in self.w.project.tracks for c in t.clips if c.id in ids]
        if not found:
            self._say("Select a clip first (Ctrl+Shift+C selects the clip under the cursor)")
        return found

    def move_clips(self, direction: int) -> None:
        clips = self._clips()
        if not clips:
            return
        ids = [c.id for c in clips]
        delta = direction * self.step
        if self.w.document.apply(lambda p: edits.move_clips(p, ids, delta), "Move clip"):
            st = self.w.state
            moved = [c for t in self.w.project.tracks for c in t.clips if c.id in set(ids)]
            if moved:
                st.set_selection(min(c.position for c in moved), max(c.end for c in moved))
            self._say(f"Clip moved to {self._time(min(c.position for c in moved))}" if moved else "Clip moved")

    def trim_end(self, direction: int) -> None:
        clips = self._clips()
        if not clips:
            return
        step = direction * self.step
        changes = [(c.id, c.end + step) for c in clips]

        def fn(p):  # noqa: ANN001, ANN202
            for cid, end in changes:
                p = edits.trim_clip(p, cid, end=end)
            return p

        self.w.document.apply(fn, "Trim clip end")
        self._say_edges([c.id for c in clips])

    def trim_to_cursor(self, start: bool) -> None:
        clips = self._clips()
        if not clips:
            return
        at = self.w.state.cursor
        ids = [c.id for c in clips]

        def fn(p):  # noqa: ANN001, ANN202
            for cid in ids:
                p = edits.trim_clip(p, cid, start=at) if start else edits.trim_clip(p, cid, end=at)
            return p

        self.w.document.apply(fn, "Trim clip start" if start else "Trim clip end")
        self._say_edges(ids)

    def _say_edges(self, ids: list[str]) -> None:
        found = [c for t in self.w.project.tracks for c in t.clips if c.id in set(ids)]
        if found:
            c = found[0]
            self._say(f"Clip from {self._time(c.position)} to {self._time(c.end)}")


def _timeline_action(window: MainWindow, menu: QMenu, text: str, slot, keys: str | list[str], tip: str) -> QAction:  # noqa: ANN001
    """An action whose keys work while the timeline (or a track header) has focus; it is
    still listed, and can be chosen, in its menu."""
    a = QAction(text, window)
    seqs = [QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)]
    a.setShortcuts(seqs)
    a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    a.setStatusTip(tip)
    a.setToolTip(f"{tip} ({seqs[0].toString()})")
    a.triggered.connect(slot)
    window.timeline.addAction(a)
    menu.addAction(a)
    return a


def focus_targets(window: MainWindow) -> list[QWidget]:
    """The timeline, then each visible dock's panel, in the order F6 visits them."""
    out: list[QWidget] = [window.timeline.lanes]
    from PySide6.QtWidgets import QDockWidget

    for dock in window.findChildren(QDockWidget):
        if dock.isVisible() and dock.widget() is not None and not dock.visibleRegion().isEmpty():
            out.append(dock.widget())
    return out


def focus_next_panel(window: MainWindow) -> None:
    targets = focus_targets(window)
    focus = window.focusWidget()
    i = 0
    for n, t in enumerate(targets):
        if focus is not None and (focus is t or t.isAncestorOf(focus)):
            i = n + 1
            break
    target = targets[i % len(targets)]
    if target is window.timeline.lanes:
        target.setFocus(Qt.FocusReason.TabFocusReason)
    else:
        target.setFocus(Qt.FocusReason.TabFocusReason)
        if not (target.hasFocus() or target.isAncestorOf(window.focusWidget() or target)):
            target.nextInFocusChain().setFocus(Qt.FocusReason.TabFocusReason)
        first = _first_focusable(target)
        if first is not None:
            first.setFocus(Qt.FocusReason.TabFocusReason)
    name = target.accessibleName() or target.windowTitle() or "Timeline"
    announce(f"{name} panel" if target is not window.timeline.lanes else "Timeline", target)


def _first_focusable(root: QWidget) -> QWidget | None:
    for w in root.findChildren(QWidget):
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            return w
    return None


def apply_effect(window: MainWindow, preview: bool = False) -> None:
    panel = window.effect_panel
    button = panel.preview_button if preview else panel.apply_button
    window.effects_dock.show()
    window.effects_dock.raise_()
    if not button.isEnabled():
        window.show_message("The effect cannot run now: choose one in the Effects panel (F6 moves there) "
                            "and select some audio")
        return
    button.click()


def cancel_job(window: MainWindow) -> None:
    active = window.jobs.active_jobs()
    if not active:
        window.show_message("No job is running")
        announce("No job is running", window)
        return
    job = active[-1]
    job.cancel()
    window.show_message(f"Cancelling {job.title}")
    announce(f"Cancelling {job.title}", window)


def install(window: MainWindow) -> TimelineKeys:
    keys = TimelineKeys(window)
    edit = window.menu_edit
    edit.addSeparator()
    nav = edit.addMenu("Cursor and Se&lection")
    nav.setToolTipsVisible(True)
    clip = edit.addMenu("Clip &by Keys")
    T = _timeline_action
    window.act_cursor_left = T(window, nav, "Cursor &Left", lambda: keys.move(-1), "Left",
                               "Move the cursor left by one grid step")
    window.act_cursor_right = T(window, nav, "Cursor &Right", lambda: keys.move(1), "Right",
                                "Move the cursor right by one grid step")
    window.act_extend_left = T(window, nav, "&Extend Selection Left", lambda: keys.extend(-1), "Shift+Left",
                               "Extend the selection left by one grid step")
    window.act_extend_right = T(window, nav, "E&xtend Selection Right", lambda: keys.extend(1), "Shift+Right",
                                "Extend the selection right by one grid step")
    window.act_select_to_start = T(window, nav, "Select to &Start", lambda: keys.extend_to(0), "Shift+Home",
                                   "Select from the cursor to the start")
    window.act_select_to_end = T(window, nav, "Select to E&nd", lambda: keys.extend_to(window.project.end),
                                 "Shift+End", "Select from the cursor to the end")
    window.act_prev_edge = T(window, nav, "&Previous Clip Edge", lambda: keys.jump_edge(-1), "Ctrl+Left",
                             "Move the cursor to the previous clip start or end")
    window.act_next_edge = T(window, nav, "Ne&xt Clip Edge", lambda: keys.jump_edge(1), "Ctrl+Right",
                             "Move the cursor to the next clip start or end")
    nav.addSeparator()
    window.act_track_prev = T(window, nav, "Select Track &Above", lambda: keys.select_track(-1), "Up",
                              "Select the track above")
    window.act_track_next = T(window, nav, "Select Track &Below", lambda: keys.select_track(1), "Down",
                              "Select the track below")
    window.act_track_add_prev = T(window, nav, "Add Track Above to Selection", lambda: keys.select_track(-1, True),
                                  "Shift+Up", "Add the track above to the selected tracks")
    window.act_track_add_next = T(window, nav, "Add Track Below to Selection", lambda: keys.select_track(1, True),
                                  "Shift+Down", "Add the track below to the selected tracks")
    window.act_select_clip = T(window, nav, "Select &Clip at Cursor", keys.select_clip, "Ctrl+Shift+C",
                               "Select the clip under the cursor and its time range")
    window.act_clip_left = T(window, clip, "Move Clip &Left", lambda: keys.move_clips(-1), "Ctrl+Alt+Left",
                             "Move the selected clips left by one grid step")
    window.act_clip_right = T(window, clip, "Move Clip &Right", lambda: keys.move_clips(1), "Ctrl+Alt+Right",
                              "Move the selected clips right by one grid step")
    window.act_clip_end_in = T(window, clip, "Clip End &Earlier", lambda: keys.trim_end(-1), "Ctrl+Alt+Shift+Left",
                               "Trim the end of the selected clips by one grid step")
    window.act_clip_end_out = T(window, clip, "Clip End &Later", lambda: keys.trim_end(1), "Ctrl+Alt+Shift+Right",
                                "Lengthen the selected clips by one grid step (hidden audio comes back)")
    window.act_trim_start_cursor = T(window, clip, "Trim Clip &Start to Cursor", lambda: keys.trim_to_cursor(True),
                                     "Ctrl+Alt+[", "Move the selected clips' start to the cursor")
    window.act_trim_end_cursor = T(window, clip, "Trim Clip E&nd to Cursor", lambda: keys.trim_to_cursor(False),
                                   "Ctrl+Alt+]", "Move the selected clips' end to the cursor")

    A = window.action
    window.act_apply_effect = A("&Apply Effect", lambda: apply_effect(window), "Ctrl+Return",
                                "Apply the effect chosen in the Effects panel to the selection")
    window.act_preview_effect = A("Pre&view Effect", lambda: apply_effect(window, True), "Ctrl+Shift+Return",
                                  "Preview the effect chosen in the Effects panel")
    window.act_cancel_job = A("&Cancel Job", lambda: cancel_job(window), "Shift+Esc",
                              "Cancel the most recent running job")
    fx = window.menu_effects
    first = fx.actions()[0] if fx.actions() else None
    for a in (window.act_apply_effect, window.act_preview_effect, window.act_cancel_job):
        fx.insertAction(first, a) if first is not None else fx.addAction(a)
    if first is not None:
        fx.insertSeparator(first)
    window.act_next_panel = A("Next &Panel", lambda: focus_next_panel(window), "F6",
                              "Move the keyboard focus to the next panel (timeline, effects, mixer, jobs…)")
    window.act_focus_timeline = A("Focus &Timeline", lambda: window.timeline.lanes.setFocus(
        Qt.FocusReason.ShortcutFocusReason), "Ctrl+F6", "Move the keyboard focus to the timeline")
    window.menu_view.addSeparator()
    window.menu_view.addAction(window.act_next_panel)
    window.menu_view.addAction(window.act_focus_timeline)
    return keys
