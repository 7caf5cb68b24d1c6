"""Jobs panel: every background job with its progress, ETA, cancel, warnings and errors.

One row per job, newest first. Rows listen to their job's signals (queued to the
GUI thread) and a half-second timer refreshes the ETAs. Finished rows stay until
"Clear finished", so an error or a warning (an out-of-memory fallback) can still
be read after the fact; the row's tooltip holds the full details.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...jobs.runner import Job, JobRunner, JobState

MAX_FINISHED = 50

STATE_TEXT = {
    JobState.QUEUED: "Waiting",
    JobState.RUNNING: "Running",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min left"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s left"
    return f"{s} s left"


class JobRow(QWidget):
    """One job: title, slot, state, progress bar, ETA, cancel, and its messages."""

    def __init__(self, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.warnings: list[str] = []
        self._cancel_requested = False
        self.setAccessibleName(f"Job {job.title}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 3, 4, 3)
        lay.setSpacing(2)
        top = QHBoxLayout()
        self.title = QLabel(job.title + ("  [GPU]" if job.gpu else ""))
        self.title.setStyleSheet("font-weight: bold;")
        self.state = QLabel()
        self.state.setAccessibleName("Job state")
        self.cancel = QToolButton()
        self.cancel.setText("✕")
        self.cancel.setToolTip("Cancel this job")
        self.cancel.setAccessibleName(f"Cancel {job.title}")
        self.cancel.clicked.connect(self.request_cancel)
        top.addWidget(self.title, 1)
        top.addWidget(self.state)
        top.addWidget(self.cancel)
        lay.addLayout(top)
        mid = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.bar.setAccessibleName("Job progress")
        self.eta = QLabel()
        self.eta.setAccessibleName("Time left")
        mid.addWidget(self.bar, 1)
        mid.addWidget(self.eta)
        lay.addLayout(mid)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setAccessibleName("Job messages")
        self.note.hide()
        lay.addWidget(self.note)
        job.progressed.connect(self.on_progress)
        job.state_changed.connect(self.on_state)
        job.warned.connect(self.on_warning)
        self.warnings.extend(job.ctx.warnings)
        self.refresh()

    # -- slots (queued from the worker) ----------------------------------------------------
    def on_progress(self, fraction: float, message: str) -> None:
        self.refresh()

    def on_state(self, _job: Job, _state: JobState) -> None:
        self.refresh()

    def on_warning(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
        self.refresh()

    def request_cancel(self) -> None:
        self._cancel_requested = True
        self.job.cancel()
        self.refresh()

    # -- drawing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        job = self.job
        state = job.state
        text = STATE_TEXT[state]
        if state is JobState.RUNNING and self._cancel_requested:
            text = "Cancelling…"
        elif state is JobState.RUNNING and job.message:
            text = f"{job.message} {job.fraction * 100:.0f}%"
        elif state is JobState.RUNNING:
            text = f"{job.fraction * 100:.0f}%"
        self.state.setText(text)
        self.bar.setValue(int(round((1.0 if state is JobState.DONE else job.fraction) * 1000)))
        self.bar.setVisible(job.active or state is JobState.DONE)
        self.eta.setText(format_eta(job.eta()) if state is JobState.RUNNING else "")
        self.cancel.setEnabled(job.active and not self._cancel_requested)
        self.cancel.setVisible(job.active)
        lines = []
        colour = ""
        for w in dict.fromkeys(self.warnings + list(job.ctx.warnings)):
            lines.append(f"⚠ {w}")
            colour = "#c77d00"
        if state is JobState.FAILED:
            lines.append(f"Error: {job.error}")
            colour = "#d04040"
        self.note.setText("\n".join(lines))
        self.note.setStyleSheet(f"color: {colour};" if colour else "")
        self.note.setVisible(bool(lines))
        self.setToolTip(job.details or "\n".join(lines))


class JobsPanel(QWidget):
    """All jobs of a :class:`JobRunner`, newest first."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.rows: dict[int, JobRow] = {}
        self.setAccessibleName("Jobs")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        head = QHBoxLayout()
        self.summary = QLabel("No jobs")
        self.summary.setAccessibleName("Jobs summary")
        self.cancel_all = QPushButton("Cancel all")
        self.cancel_all.setAccessibleName("Cancel all jobs")
        self.cancel_all.clicked.connect(jobs.cancel_all)
        self.clear = QPushButton("Clear finished")
        self.clear.setAccessibleName("Clear finished jobs")
        self.clear.clicked.connect(self.clear_finished)
        head.addWidget(self.summary, 1)
        head.addWidget(self.cancel_all)
        head.addWidget(self.clear)
        lay.addLayout(head)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        inner = QWidget()
        self.list = QVBoxLayout(inner)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.setSpacing(1)
        self.list.addStretch(1)
        self.scroll.setWidget(inner)
        lay.addWidget(self.scroll, 1)
        for job in list(jobs.jobs):
            self.add_job(job)
        jobs.job_added.connect(self.add_job)
        jobs.job_ended.connect(self._update_summary)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._update_summary()

    def add_job(self, job: Job) -> None:
        if job.id in self.rows:
            return
        row = JobRow(job)
        self.rows[job.id] = row
        self.list.insertWidget(0, row)
        self._prune()
        self._update_summary()

    def _prune(self) -> None:
        """Keep at most MAX_FINISHED finished rows (the oldest go first)."""
        finished = [jid for jid, r in self.rows.items() if not r.job.active]
        for jid in finished[: max(0, len(finished) - MAX_FINISHED)]:
            row = self.rows.pop(jid)
            self.list.removeWidget(row)
            row.deleteLater()

    def row(self, job: Job) -> JobRow:
        return self.rows[job.id]

    def clear_finished(self) -> None:
        self.jobs.clear_finished()
        for jid, row in list(self.rows.items()):
            if not row.job.active:
                self.list.removeWidget(row)
                row.deleteLater()
                del self.rows[jid]
        self._update_summary()

    def _tick(self) -> None:
        for row in self.rows.values():
            if row.job.active:
                row.refresh()
        self._update_summary()

    def _update_summary(self, *_a) -> None:
        active = [r.job for r in self.rows.values() if r.job.active]
        failed = sum(1 for r in self.rows.values() if r.job.state is JobState.FAILED)
        if active:
            text = f"{len(active)} running or waiting"
        elif self.rows:
            text = "All done"
        else:
            text = "No jobs"
        if failed:
            text += f", {failed} failed"
        self.summary.setText(text)
        self.cancel_all.setEnabled(bool(active))
        self.clear.setEnabled(len(active) < len(self.rows))
