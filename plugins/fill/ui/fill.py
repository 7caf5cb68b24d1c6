"""Fill and Extend panel: find takes for a region (or a clip's extension), audition them A/B, apply one.

A dock beside the effect panel, so the takes stay listed while the user listens,
looks at the timeline and switches between them:

* **Fill** (Audio > Fill Selection…, Ctrl+Alt+F) replaces the time selection on one
  clip with audio that continues both sides. Engine: Auto (the default; the list
  says which engine it chose), Interpolation for short gaps, Context match, or
  Neural (Seedwave's fill prior fine-tuned briefly on the clip, or with "Start from the
  fill prior" off a network trained on the clip alone; on the AI device of the settings).
* **Extend** (Audio > Extend Clip…, Ctrl+Alt+X) continues a clip past its end or
  before its start by some seconds.

Both list the ranked takes under "Original". Selecting a row auditions it: Play
loops the region with a second and a half of context either side, and choosing
another row while it plays switches at the playhead (A/B between the original and
a take, or between two takes). Apply commits the chosen take as one undo step.
Nothing touches the document before that.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.core.errors import SeedwaveError
from editor.core.timefmt import format_frames
from editor.host import Host
from editor.jobs.runner import Job, JobState

from ..prior import PRIOR_STEPS, SCRATCH_STEPS
from .fill_model import ENGINE_NAMES, clip_for_extend, extend_placement, fill_target
from .fill_session import ORIGINAL, FillSession

ENGINE_ITEMS = (
    ("auto", "Auto", "Chooses by the gap's length and the material (the list says which it chose)"),
    ("ar", "Interpolation (short gaps)", "Continues the waveform from both sides: clicks and dropouts up to ~50 ms"),
    ("match", "Context match", "Copies the stretch of the clip that best continues both sides; several takes"),
    ("neural", "Neural: Seedwave's fill prior, fine-tuned on the clip",
     "Seedwave's pretrained fill prior, fine-tuned for a few steps on the clip (uses the AI device of the settings). "
     "Untick “Start from the fill prior” to train a network on the clip alone instead (slow on a CPU)"),
)
STEPS_TEXT = {True: ("Fine-tuning steps:", "Neural fine-tuning steps",
                     "Steps of fine-tuning the fill prior on the clip: more steps, a closer fill, slower"),
              False: ("Training steps:", "Neural training steps",
                      "Steps of training a network on the clip from scratch: more steps, a closer fill, slower")}
WARN = "color: #c77d00;"
ERROR = "color: #d04040;"


def _bucket_text(index: int) -> str:
    """Auto's gap-length bucket in words ("45–220 ms"), from the plugin's own table."""
    from ..auto import BUCKETS

    def fmt(sec: float) -> str:
        return f"{sec * 1000:g} ms" if sec < 1 else f"{sec:g} s"

    index = max(0, min(index, len(BUCKETS) - 1))
    hi = BUCKETS[index][0]
    lo = BUCKETS[index - 1][0] if index else 0.0
    if lo == 0.0:
        return f"up to {fmt(hi)}"
    return f"over {fmt(lo)}" if hi == float("inf") else f"{fmt(lo)}–{fmt(hi)}"


class FillPanel(QWidget):
    """The dock's content; :class:`FillSession` does the work."""

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.s = FillSession(host, self)
        self.setAccessibleName("Fill and Extend")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Fill or Extend")
        self.tabs.addTab(self._fill_page(), "Fill")
        self.tabs.addTab(self._extend_page(), "Extend")
        self.tabs.currentChanged.connect(self.refresh_target)
        lay.addWidget(self.tabs)

        prow = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Fill progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel fill")
        self.cancel_button.clicked.connect(self.cancel)
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        lay.addLayout(prow)

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setAccessibleName("Takes")
        lay.addWidget(self.header)
        self.list = QListWidget()
        self.list.setAccessibleName("Take list")
        self.list.setToolTip("Select a row to hear it; while the preview plays, the sound switches at the playhead")
        self.list.setAccessibleDescription("Up and Down choose a take, Enter applies it")
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemDoubleClicked.connect(lambda _i: self.s.play())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Enter on the list applies the chosen take
            QShortcut(QKeySequence(key), self.list, self._apply_from_list, context=Qt.ShortcutContext.WidgetShortcut)
        lay.addWidget(self.list, 1)

        arow = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setAccessibleName("Play take")
        self.play_button.setToolTip("Play the region with context before and after, without changing the project")
        self.play_button.clicked.connect(self.s.toggle_play)
        self.ab_button = QToolButton()
        self.ab_button.setText("A/B")
        self.ab_button.setAccessibleName("Toggle original and take")
        self.ab_button.setToolTip("Switch between the original (A) and the take (B)")
        self.ab_button.clicked.connect(self.s.toggle_ab)
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setChecked(self.s.loop)
        self.loop_box.setToolTip("Repeat the preview until stopped")
        self.loop_box.toggled.connect(lambda on: setattr(self.s, "loop", on))
        self.apply_button = QPushButton("Apply")
        self.apply_button.setAccessibleName("Apply take")
        self.apply_button.setDefault(True)
        self.apply_button.setToolTip("Apply the chosen take as one undo step (Enter in the take list)")
        self.apply_button.clicked.connect(lambda: self.s.apply())
        for wdg in (self.play_button, self.ab_button, self.loop_box):
            arow.addWidget(wdg)
        arow.addStretch(1)
        arow.addWidget(self.apply_button)
        lay.addLayout(arow)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Fill status")
        lay.addWidget(self.status)

        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._poll)
        s = self.s
        s.run_started.connect(self._run_started)
        s.run_finished.connect(self._run_finished)
        s.takes_changed.connect(self._fill_list)
        s.choice_changed.connect(self._choice_changed)
        s.preview_changed.connect(self._preview_state)
        s.applied.connect(self._applied)
        s.error.connect(lambda text: self.set_status(text, ERROR))
        host.selection.changed.connect(self.refresh_target)
        host.document.changed.connect(self.refresh_target)
        host.document.changed.connect(self._document_changed)
        self._applied_project = None  # the project the last Apply made ("Applied take N" is true of it)
        self._running(False)
        self._fill_list()
        self.refresh_target()

    # -- building ------------------------------------------------------------------------
    def _fill_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.region = QLabel()
        self.region.setWordWrap(True)
        self.region.setAccessibleName("Region to fill")
        self.engine = QComboBox()
        self.engine.setAccessibleName("Engine")
        for key, text, tip in ENGINE_ITEMS:
            self.engine.addItem(text, key)
            self.engine.setItemData(self.engine.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.engine.currentIndexChanged.connect(self._engine_changed)
        self.n_takes = QSpinBox()
        self.n_takes.setRange(1, 9)
        self.n_takes.setValue(5)
        self.n_takes.setAccessibleName("Number of takes")
        self.n_takes.setToolTip("How many candidates to find (Context match gives several; the others give one)")
        self.whole_track = QCheckBox("Search the whole track")
        self.whole_track.setToolTip("Also copy material from the rest of the track, not only around the region")
        self.whole_track.toggled.connect(self.refresh_target)
        self.prior = QCheckBox("Start from the fill prior")
        self.prior.setChecked(True)
        self.prior.setAccessibleName("Start from the fill prior")
        self.prior.setToolTip("Neural engine: start from Seedwave's pretrained fill prior and fine-tune it briefly "
                              "on the clip. Off: train a network on the clip alone (slower)")
        self.prior.toggled.connect(self._prior_toggled)
        self.steps = QSpinBox()
        self.steps.setRange(1, 5000)
        self.steps_label = QLabel()
        self.steps_label.setBuddy(self.steps)
        self._set_steps_mode(True, PRIOR_STEPS)
        self.find_button = QPushButton("Find Takes")
        self.find_button.setAccessibleName("Find fill takes")
        self.find_button.setToolTip("Compute candidate fills for the selection (Ctrl+Alt+F)")
        self.find_button.clicked.connect(self.find_fill)
        form.addRow("Region:", self.region)
        form.addRow("Engine:", self.engine)
        form.addRow("Takes:", self.n_takes)
        form.addRow("", self.prior)
        form.addRow(self.steps_label, self.steps)
        form.addRow("", self.whole_track)
        form.addRow("", self.find_button)
        self._engine_changed()
        return page

    def _extend_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.clip_label = QLabel()
        self.clip_label.setWordWrap(True)
        self.clip_label.setAccessibleName("Clip to extend")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.1, 600.0)
        self.seconds.setDecimals(2)
        self.seconds.setValue(5.0)
        self.seconds.setSuffix(" s")
        self.seconds.setAccessibleName("Seconds to add")
        self.seconds.valueChanged.connect(self.refresh_target)
        self.direction = QComboBox()
        self.direction.setAccessibleName("Where to add")
        self.direction.addItem("After the end", "end")
        self.direction.addItem("Before the start", "start")
        self.direction.currentIndexChanged.connect(self.refresh_target)
        self.placement = QLabel()
        self.placement.setWordWrap(True)
        self.placement.setAccessibleName("What moves")
        self.extend_button = QPushButton("Find Takes")
        self.extend_button.setAccessibleName("Find extend takes")
        self.extend_button.setToolTip("Compute candidate extensions of the clip (loop points)")
        self.extend_button.clicked.connect(self.find_extend)
        form.addRow("Clip:", self.clip_label)
        form.addRow("Add:", self.seconds)
        form.addRow("Where:", self.direction)
        form.addRow("", self.placement)
        form.addRow("", self.extend_button)
        return page

    # -- targets ---------------------------------------------------------------------------
    def _set_steps_mode(self, prior: bool, value: int | None) -> None:
        label, name, tip = STEPS_TEXT[prior]
        self.steps_label.setText(label)
        self.steps.setAccessibleName(name)
        self.steps.setToolTip(tip)
        self.steps.setSingleStep(8 if prior else 50)
        if value is not None:
            self.steps.setValue(value)

    def _prior_toggled(self, on: bool) -> None:
        """Fine-tuning the prior needs far fewer steps than training from scratch: switch to that
        mode's default, unless the user chose a number of their own."""
        old_default = SCRATCH_STEPS if on else PRIOR_STEPS
        self._set_steps_mode(on, (PRIOR_STEPS if on else SCRATCH_STEPS)
                             if self.steps.value() == old_default else None)

    def _engine_changed(self, *_a) -> None:
        neural = self.engine.currentData() == "neural"
        self.steps.setEnabled(neural)
        self.prior.setEnabled(neural)
        self.n_takes.setEnabled(self.engine.currentData() in ("auto", "match"))

    def extend_clip_id(self) -> str | None:
        st = self.host.selection.current()
        return clip_for_extend(self.host.document.project, st.clip_ids, st.track_ids, st.cursor)

    def _time(self, frames: int, rate: int) -> str:
        """A time in the format the user chose for the selection bar (like the rest of the window)."""
        return format_frames(frames, rate, self.host.settings.get("view/time_format", "hms"))

    def refresh_target(self, *_a) -> None:
        """Say what Fill / Extend would work on, or why it cannot (as the selection changes)."""
        project = self.host.document.project
        rate = project.sample_rate
        try:
            self.region.setText(fill_target(project, self.host.selection.current().time(), self.whole_track.isChecked())
                                .describe(self._time))
            self.region.setStyleSheet("")
        except SeedwaveError as exc:
            self.region.setText(str(exc))
            self.region.setStyleSheet(WARN)
        cid = self.extend_clip_id()
        if cid is None:
            self.clip_label.setText("Select a clip (click its name strip) or put the cursor in one")
            self.clip_label.setStyleSheet(WARN)
            self.placement.setText("")
            return
        _track, clip = project.find_clip(cid)
        self.clip_label.setText(f"“{clip.name or 'clip'}” ({self._time(clip.length, rate)})")
        self.clip_label.setStyleSheet("")
        frames = int(round(self.seconds.value() * rate))
        direction = self.direction.currentData()
        position, shift = extend_placement(project, cid, frames, direction)
        if shift:
            who = "the clip and the clips after it" if direction == "start" else "later clips on the track"
            self.placement.setText(f"Not enough room: {who} move right by {self._time(shift, rate)}")
        elif direction == "start":
            self.placement.setText(f"The clip will start at {self._time(position, rate)}; nothing else moves")
        else:
            self.placement.setText("Nothing else on the track moves")

    # -- running ---------------------------------------------------------------------------
    def find_fill(self) -> Job | None:
        self.tabs.setCurrentIndex(0)
        return self.s.start_fill(self.engine.currentData(), self.n_takes.value(), self.whole_track.isChecked(),
                                 self.steps.value(), self.prior.isChecked())

    def find_extend(self) -> Job | None:
        self.tabs.setCurrentIndex(1)
        cid = self.extend_clip_id()
        if cid is None:
            self.set_status("Select a clip to extend first (click its name strip)", WARN)
            self.host.ui.message("Select a clip to extend first (click its name strip)")
            return None
        return self.s.start_extend(cid, self.seconds.value(), self.direction.currentData())

    def cancel(self) -> None:
        if self.s.busy:
            self.s.cancel()
            self.set_status("Cancelling…")

    def _running(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.cancel_button.setEnabled(on)
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def _run_started(self, job: Job) -> None:
        self.progress.setValue(0)
        self.progress.setFormat(job.title)
        self._running(True)
        self.set_status(f"{job.title}…")

    def _poll(self) -> None:
        job = self.s.job
        if job is not None and job.active:
            self.progress.setValue(int(job.fraction * 1000))
            if job.message:
                self.progress.setFormat(f"{job.message} – %p%")

    def _run_finished(self, job: Job) -> None:
        if job is not self.s.job:
            return
        self._running(False)
        warnings = list(dict.fromkeys(job.ctx.warnings))
        if job.state is JobState.CANCELLED:
            self.set_status(f"{job.title}: cancelled; nothing changed")
        elif job.state is JobState.FAILED:
            self.set_status(f"{job.title}: {job.error}", ERROR)
        elif warnings:
            self.set_status(" ".join(f"⚠ {w}" for w in warnings), WARN)
        else:
            n = len(self.s.take_set.takes) if self.s.take_set else 0
            self.set_status(f"{n} take(s) ready: select one to hear it, then Apply")

    def set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    # -- takes -----------------------------------------------------------------------------
    def _fill_list(self) -> None:
        ts = self.s.take_set
        self.list.blockSignals(True)
        self.list.clear()
        if ts is None:
            self.header.setText("No takes yet: select a region and press Find Takes")
        else:
            self.header.setText(self._describe(ts))
            orig = QListWidgetItem("A   Original (as it is now)")
            orig.setToolTip("The audio as it is in the project")
            self.list.addItem(orig)
            for i, p in enumerate(ts.takes):
                t = p.take
                engine = ENGINE_NAMES.get(t.engine, t.engine)
                cost = "" if t.engine == "ar" else f" · cost {t.score:.3g}"
                item = QListWidgetItem(f"{i + 1}   {engine}{cost} · {self._take_label(t, ts.target.rate)}")
                item.setToolTip(json.dumps({k: v for k, v in t.params.items()}, default=str, indent=1))
                self.list.addItem(item)
        self.list.blockSignals(False)
        has = ts is not None and bool(ts.takes)
        for wdg in (self.play_button, self.ab_button, self.apply_button, self.list):
            wdg.setEnabled(has)
        self._choice_changed(self.s.choice)
        self._preview_state()

    def _take_label(self, take, rate: int) -> str:  # noqa: ANN001 - Take
        """The take's label, with where its material comes from in the chosen time format."""
        at, clip = take.params.get("source_timeline_s"), take.params.get("source_clip")
        if isinstance(at, (int, float)) and clip is not None:
            return f"Material from {self._time(int(round(at * rate)), rate)} (“{clip}”)"
        return take.label

    def _describe(self, ts) -> str:  # noqa: ANN001 - TakeSet
        target = ts.target
        if ts.kind == "extend":
            where = "end" if target.direction == "end" else "start"
            return f"Extensions of “{target.clip_name}” by {self._time(target.frames, target.rate)} at the {where}"
        text = f"Takes for {target.describe(self._time)}"
        auto = ts.takes[0].take.params.get("auto") if ts.takes else None
        if auto:
            gap = _bucket_text(int(auto.get("gap_bucket", 0)))
            text += (f". Auto chose {ENGINE_NAMES.get(auto.get('chose'), auto.get('chose'))} for "
                     f"{auto.get('material', 'this material')} (a gap of {gap})")
            if auto.get("fallback"):
                text += "; too little material to match, so it interpolated"
        return text

    def _apply_from_list(self) -> None:
        if self.apply_button.isEnabled():
            self.apply_button.click()

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.s.choose(ORIGINAL if row == 0 else row - 1)

    def _choice_changed(self, choice: int) -> None:
        ts = self.s.take_set
        if ts is None:
            self.apply_button.setText("Apply")
            return
        row = 0 if choice == ORIGINAL else choice + 1
        if self.list.currentRow() != row:
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
        self.apply_button.setText(f"Apply Take {self.s.last_take + 1}")

    def _preview_state(self) -> None:
        self.play_button.setText("Stop" if self.s.previewing else "Play")

    def _applied(self, p) -> None:  # noqa: ANN001 - Prepared
        self._applied_take = p.take.index + 1
        self._applied_project = self.host.document.project
        self.set_status(f"Applied take {self._applied_take} ({ENGINE_NAMES.get(p.engine, p.engine)}); "
                        "Ctrl+Z undoes it")

    def _document_changed(self, project) -> None:  # noqa: ANN001 - Project
        """An undo (or any later edit) makes "Applied take N… Ctrl+Z undoes it" stale: clear it."""
        if self._applied_project is None or project is self._applied_project:
            return
        self._applied_project = None
        if self.status.text().startswith("Applied take"):
            self.set_status("")


# --------------------------------------------------------------------------- installing


PANEL_ID = "fill.panel"  # the panel's id in plugin.toml


def show_panel(host: Host, tab: int) -> FillPanel:
    panel = host.ui.show_panel(PANEL_ID)
    assert isinstance(panel, FillPanel)
    panel.tabs.setCurrentIndex(tab)
    return panel


def fill_selection(host: Host) -> Job | None:
    """Audio > Fill Selection…: open the panel and find takes for the selection right away."""
    panel = show_panel(host, 0)
    if host.selection.current().time().empty:
        text = "Select the region to fill first: drag across it on a track"
        panel.set_status(text, WARN)
        host.ui.message(text)
        return None
    return panel.find_fill()


def extend_clip(host: Host) -> None:
    """Audio > Extend Clip…: open the panel on Extend (the user sets the seconds, then finds takes)."""
    panel = show_panel(host, 1)
    panel.seconds.setFocus()
    panel.seconds.selectAll()


__all__ = ["FillPanel", "extend_clip", "fill_selection", "show_panel"]
