"""The open document: its history, file path, and the edit entry points the UI uses.

Views read ``document.project`` and redraw on ``changed``. Every change goes
through :meth:`Document.apply` (instant edits) or :meth:`Document.apply_async`
(edits that stream audio, run as a background job on a snapshot and are applied
on the GUI thread as one history step). If the project changed while an async
edit ran, the result is still applied when it touched different tracks; if the
same tracks changed, the user is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.edits import Clipboard
from ..core.errors import SeedwaveError
from ..core.history import History
from ..core.merge import merge_result
from ..core.model import Project
from ..core.projectfile import save_project
from ..core.task import TaskContext
from ..jobs.runner import Job, JobRunner


class Document(QObject):
    changed = Signal(object)  # the new Project
    history_changed = Signal()
    title_changed = Signal(str)
    message = Signal(str)  # a one-line message for the status bar
    error = Signal(str)  # a one-line error to show the user
    saved = Signal(object)  # the Path, when a save has finished and the document is marked saved
    save_failed = Signal(str)  # why a save failed (the document stays modified)
    save_ended = Signal(object, bool)  # the save Job, and whether it succeeded

    def __init__(self, project: Project, jobs: JobRunner, path: Path | None = None) -> None:
        super().__init__()
        self.history = History(project, "Open" if path else "New project")
        self.path = Path(path) if path else None
        self.jobs = jobs
        self.clipboard: Clipboard | None = None
        # The window's view (selection, cursor): captured with each step, given back on undo/redo.
        self.view_capture: Callable[[], Any] | None = None
        self.view_restore: Callable[[Any], None] | None = None
        self._pushing = False
        self._last_entry = self.history.entry
        self.history.subscribe(self._on_history)

    # -- state ---------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.history.current

    @property
    def modified(self) -> bool:
        return self.history.modified

    @property
    def current_entry(self) -> object:
        """The current history step (compare with ``is`` to see whether anything changed)."""
        return self.history.entry

    @property
    def name(self) -> str:
        return self.path.stem if self.path else self.project.name

    def modified_since_open(self) -> bool:
        """True if any step other than opening/importing files happened."""
        return any(not (e.label.startswith("Open") or e.label == "New project")
                   for e in self.history.entries[: self.history.index + 1])

    def title(self) -> str:
        return f"{'*' if self.modified else ''}{self.name} — Seedwave"

    def _on_history(self, h: History) -> None:
        old, new = self._last_entry, h.entry
        self._last_entry = new
        entries = h.entries
        restore = None
        if old is not new and not self._pushing and any(e is old for e in entries):
            old_index = next(i for i, e in enumerate(entries) if e is old)
            # Undo (or a jump back): the selection the first undone edit was made with;
            # redo (or a jump forward): the selection the redone edit was made with.
            restore = (entries[h.index + 1] if h.index < old_index else new).view.get("before")
        self.changed.emit(self.project)
        self.history_changed.emit()
        self.title_changed.emit(self.title())
        if restore is not None and self.view_restore is not None:
            self.view_restore(restore)

    # -- edits ---------------------------------------------------------------------
    def push(self, project: Project, label: str, merge_key: str | None = None,
             meta: dict[str, Any] | None = None, view: Any = None) -> None:
        """``view``: the selection the edit was made with (default: the current one)."""
        if view is None and self.view_capture is not None:
            view = self.view_capture()
        self._pushing = True
        try:
            self.history.push(project, label, merge_key, meta, view=view)
        finally:
            self._pushing = False

    def apply(self, fn: Callable[[Project], Project], label: str, merge_key: str | None = None,
              meta: dict[str, Any] | None = None) -> bool:
        """Run an instant edit; a user error becomes a message, never an exception."""
        try:
            new = fn(self.project)
        except SeedwaveError as exc:
            self.error.emit(str(exc))
            return False
        self.push(new, label, merge_key, meta)
        return True

    def apply_async(self, fn: Callable[[Project, TaskContext], Project], label: str,
                    track_ids: tuple[str, ...] = (), meta: dict[str, Any] | None = None,
                    on_done: Callable[[bool], None] | None = None, gpu: bool = False,
                    kind: str = "edit") -> Job:
        """Run an edit that takes time as a job; apply its result as one step.

        ``gpu`` puts the job in the runner's single GPU slot (torch effects on
        CUDA/MPS). ``meta`` is read when the result is applied, so the job may
        fill it in (provenance known only after the run)."""
        base = self.project

        def work(ctx: TaskContext) -> Project:
            return fn(base, ctx)

        job = Job(label, work, gpu=gpu, kind=kind)
        holder = _AsyncEdit(self, job, base, label, track_ids, meta, on_done)
        job.finished.connect(holder.done)
        job.failed.connect(holder.failed)
        job.cancelled.connect(holder.cancelled)
        holder.setParent(self)
        self.jobs.submit(job)
        return job

    def undo(self) -> None:
        if self.history.can_undo:
            self.history.undo()
            self.message.emit(f"Undid {self.history.entries[self.history.index + 1].label}")

    def redo(self) -> None:
        if self.history.can_redo:
            self.history.redo()
            self.message.emit(f"Redid {self.history.entry.label}")

    def reset(self, project: Project, label: str = "Open", path: Path | None = None) -> None:
        """Start again with ``project`` (open, new): one history step, saved, at ``path``."""
        self.path = Path(path) if path else None
        self.history.reset(project, label)
        self.title_changed.emit(self.title())

    def mark_saved(self, path: Path | None = None, entry: object = None) -> None:
        """The step ``entry`` (default: the current one) is what the file at ``path``
        (default: the document's) holds now."""
        if path is not None:
            self.path = Path(path)
        h = self.history
        if entry is None or entry is h.entry:
            h.mark_saved()
        elif entry in h.entries:
            h.saved_index = h.entries.index(entry)
            h._changed()
        self.title_changed.emit(self.title())

    def mark_unsaved(self) -> None:
        """No step matches a file (recovered work): closing asks to save."""
        self.history.saved_index = None
        self.title_changed.emit(self.title())

    def save(self, path: Path) -> Job:
        """Save the current project to ``path`` as a job. Ends with ``saved`` (the document
        is marked saved at the step that was written, even if editing went on meanwhile)
        or ``save_failed``; ``save_ended`` comes in both cases."""
        project = self.project
        entry = self.history.entry
        path = Path(path)

        def work(ctx: TaskContext) -> Path:
            save_project(project, path, ctx)
            return path

        job = Job(f"Save {path.name}", work, kind="save")
        _SaveRelay(self, job, path, entry)
        self.jobs.submit(job)
        return job


class _SaveRelay(QObject):
    """Receives a save job's outcome on the GUI thread (its slots are methods of a
    QObject living there, so Qt queues the calls)."""

    def __init__(self, doc: Document, job: Job, path: Path, entry: object) -> None:
        super().__init__(doc)
        self.doc, self.job, self.path, self.entry = doc, job, path, entry
        job.finished.connect(self.done)
        job.failed.connect(self.failed)
        job.cancelled.connect(self.cancelled)

    def done(self, _result: object) -> None:
        self.doc.mark_saved(self.path, self.entry)
        self.doc.saved.emit(self.path)
        self._end(True)

    def failed(self, message: str) -> None:
        self.doc.error.emit(message)
        self.doc.save_failed.emit(message)
        self._end(False)

    def cancelled(self) -> None:
        self.doc.save_failed.emit(f"Save {self.path.name}: cancelled")
        self._end(False)

    def _end(self, ok: bool) -> None:
        self.doc.save_ended.emit(self.job, ok)
        self.setParent(None)
        self.deleteLater()


class _AsyncEdit(QObject):
    """Applies an async edit's result on the GUI thread."""

    def __init__(self, doc: Document, job: Job, base: Project, label: str, track_ids: tuple[str, ...],
                 meta: dict[str, Any] | None, on_done: Callable[[bool], None] | None) -> None:
        super().__init__()
        self.doc, self.job, self.base, self.label = doc, job, base, label
        self.track_ids, self.meta, self.on_done = track_ids, meta, on_done
        self.view = doc.view_capture() if doc.view_capture is not None else None  # the selection it was run on

    def _finish(self, ok: bool) -> None:
        if self.on_done is not None:
            self.on_done(ok)
        self.setParent(None)
        self.deleteLater()

    def done(self, result: Project) -> None:
        doc = self.doc
        current = doc.project
        if current is not self.base:
            merged = merge_result(self.base, result, current, self.track_ids)
            if merged is None:
                from PySide6.QtWidgets import QApplication, QMessageBox

                parent = QApplication.activeWindow()
                answer = QMessageBox.question(
                    parent, "Apply result?",
                    f"“{self.label}” was computed from audio you have changed since. "
                    "Apply it anyway (replacing those changes on the same tracks)?",
                )
                if answer != QMessageBox.StandardButton.Yes:
                    doc.message.emit(f"{self.label}: discarded")
                    self._finish(False)
                    return
                merged = merge_result(self.base, result, current, self.track_ids, force=True)
            result = merged
        doc.push(result, self.label, meta=self.meta, view=self.view)
        self._finish(True)

    def failed(self, message: str) -> None:
        self.doc.error.emit(f"{self.label}: {message}")
        self._finish(False)

    def cancelled(self) -> None:
        self.doc.message.emit(f"{self.label}: cancelled")
        self._finish(False)
