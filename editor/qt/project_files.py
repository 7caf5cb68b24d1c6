"""File and project lifecycle: new, open, import, save, export, drag and drop, autosave.

A part of :class:`~editor.qt.main_window.MainWindow` (a mixin: it uses the window's
``document``, ``settings``, ``jobs``, ``state`` and message helpers). Saving runs as a
job in :meth:`Document.save`; its end arrives as the document's ``saved`` or
``save_failed`` signal, so nothing waits in a loop. Closing with unsaved changes and
"Save" closes once ``saved`` has arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core import edits
from ..core.audio_io import AUDIO_EXTENSIONS, ImportedAudio, import_audio, probe
from ..core.errors import SeedwaveError
from ..core.model import Clip, Project
from ..core.projectfile import EXTENSION, load_project
from ..core.recovery import write_journal
from ..core.store import default_store
from ..core.task import TaskContext
from ..jobs.runner import Job
from .document import Document

AUDIO_FILTER = "Audio files (" + " ".join(f"*{e}" for e in AUDIO_EXTENSIONS) + ")"
PROJECT_FILTER = f"Seedwave projects (*{EXTENSION})"


class _SaveWaiter(QObject):
    """Quits ``loop`` when the document reports the end of ``job``'s save."""

    def __init__(self, document: Document, job: Job, result: list[bool], loop: QEventLoop) -> None:
        super().__init__()
        self.job, self.result, self.loop = job, result, loop
        document.save_ended.connect(self.ended)

    def ended(self, job: Job, ok: bool) -> None:
        if job is self.job:
            self.result.append(ok)
            self.loop.quit()


class ProjectFiles:
    """Opening, importing and saving the project (a part of the main window)."""

    # -- file: new / open / import / save ----------------------------------------------------
    def maybe_save(self, then: Callable[[], object] | None = None) -> bool:
        """Ask about unsaved changes: True means go ahead now. False means the user
        cancelled, or chose Save: then ``then`` runs once the save has succeeded."""
        if not self.document.modified or not self.project.tracks:
            return True
        box = QMessageBox(self)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save changes to “{self.document.name}” before closing?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        box.deleteLater()
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            if then is None:
                return self.save(wait=True)
            self._after_save = then
            if not self.save():
                self._after_save = None
            return False
        return True

    def _save_failed(self, _message: str) -> None:
        self._after_save = None  # closing (or opening) waits for a save that did not happen

    def _continue_after_save(self, _path: object = None) -> None:
        then, self._after_save = self._after_save, None
        if then is not None:
            then()

    def set_project(self, project: Project, path: Path | None = None, label: str = "Open") -> None:
        """Replace the document's content (the history starts again)."""
        self.stop()
        self.document.reset(project, label, path)
        self.state.set_selection(0, 0, ())
        self.state.set_clips(())
        self.state.set_cursor(0)
        self.state.rate = project.sample_rate
        self.timeline.lanes.peaks.clear()
        self.reset_transport_display()
        self.document.title_changed.emit(self.document.title())
        QTimer.singleShot(0, self.fit_project)

    def new_project(self) -> None:
        if self.maybe_save(self.new_project):
            self.set_project(Project(), None, "New project")

    def close_project(self) -> None:
        self.new_project()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.get("export/folder"),
                                              f"{PROJECT_FILTER};;{AUDIO_FILTER};;All files (*)")
        if path:
            self.open_paths([path])

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import audio", "", f"{AUDIO_FILTER};;All files (*)")
        if paths:
            self.import_paths(paths)

    def open_paths(self, paths: list[str]) -> None:
        """Open a project file, or audio files as a new project."""
        if not paths:
            return
        projects = [p for p in paths if p.lower().endswith(EXTENSION)]
        if projects:
            if not self.maybe_save(lambda: self.open_paths(paths)):
                return
            try:
                project = load_project(projects[0])
            except SeedwaveError as exc:
                self.show_error(str(exc))
                return
            self.set_project(project, Path(projects[0]))
            self.document.mark_saved()
            self.settings.add_recent(str(Path(projects[0]).resolve()))
            return
        if self.project.tracks and not self.maybe_save(lambda: self.open_paths(paths)):
            return
        if self.project.tracks:
            self.set_project(Project(), None, "New project")
        for job in self.import_paths(paths):
            job.setProperty("open", True)

    def import_paths(self, paths: list[str], at_cursor: bool = False) -> list[Job]:
        """Import audio files in the background; each becomes tracks (or a clip at the
        cursor on the selected track with ``at_cursor``)."""
        jobs = []
        rate = self.project.sample_rate if self.project.tracks else None
        for path in paths:
            try:
                info = probe(path)
            except SeedwaveError as exc:
                self.show_error(str(exc))
                continue
            if rate is None:
                rate = info.sample_rate
                if not self.project.tracks:
                    self.document.reset(self.project.with_(sample_rate=rate, name=Path(path).stem), "New project")
                    self.state.rate = rate
            target = rate

            def work(ctx: TaskContext, path=path, target=target) -> ImportedAudio:
                return import_audio(path, default_store(), ctx, target_rate=target)

            job = Job(f"Import {Path(path).name}", work, kind="import")
            job.finished.connect(self._import_done)
            job.failed.connect(self._import_failed)
            job.cancelled.connect(self._import_cancelled)
            job.setProperty("at_cursor", at_cursor)
            job.setProperty("path", str(path))
            self.jobs.submit(job)
            jobs.append(job)
            self.settings.add_recent(str(Path(path).resolve()))
        return jobs

    def _import_done(self, imp: ImportedAudio) -> None:
        job = self.sender()
        path = Path(imp.info.path)
        at_cursor = bool(job.property("at_cursor")) if job is not None else False
        project = self.project
        if imp.sample_rate != project.sample_rate:
            self.show_error(f"{path}: imported at {imp.sample_rate} Hz into a {project.sample_rate} Hz project")
        if at_cursor and self.state.track_ids and len(imp.sequences) == 1:
            tid = self.state.track_ids[0]
            clip = Clip(imp.sequences[0], self.state.cursor, name=imp.names[0])
            new = edits.add_clip(project, tid, clip)
        else:
            new = project
            for seq, name in zip(imp.sequences, imp.names, strict=True):
                new = edits.add_track(new, name, (Clip(seq, 0, name=name),))
        first_import = not project.tracks
        opened = job is not None and bool(job.property("open"))
        self.document.push(new, f"Open {path.name}" if opened else f"Import {path.name}")
        if opened and not self.document.modified_since_open():
            # Opening a file is not a change: closing right away asks nothing.
            self.document.mark_saved()
        if first_import:
            self.fit_project()
        for w in imp.warnings:
            self.show_message(w)
        # Copy aliased audio into the cache in the background, so the project no
        # longer depends on the source file.
        blocks = imp.blocks()
        if any(b.backing.describe()["kind"] == "alias" for b in blocks):
            def cache(ctx: TaskContext, blocks=blocks) -> None:
                default_store().cache_aliases(blocks, ctx)

            self.jobs.run(f"Cache {path.name}", cache, kind="cache")
        if job is not None:
            self.import_finished.emit(job)

    def _import_failed(self, message: str) -> None:
        job = self.sender()
        self.show_error(message)
        if job is not None:
            self.import_finished.emit(job)

    def _import_cancelled(self) -> None:
        job = self.sender()
        self.show_message(f"{job.title if job else 'Import'}: cancelled")
        if job is not None:
            self.import_finished.emit(job)

    def save(self, wait: bool = False) -> bool:
        if self.document.path is None:
            return self.save_as(wait=wait)
        return self._save_to(self.document.path, wait)

    def save_as(self, wait: bool = False) -> bool:
        start = str(self.document.path or Path.home() / f"{self.document.name}{EXTENSION}")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(EXTENSION):
            path += EXTENSION
        return self._save_to(Path(path), wait)

    def _save_to(self, path: Path, wait: bool = False) -> bool:
        """Save in the background; the document reports the end (``saved`` or ``save_failed``).

        ``wait`` (scripts, tests) returns only when the save has ended, and whether it
        succeeded: a local event loop runs until one of those signals quits it."""
        job = self.document.save(path)
        if not wait:
            return True
        result: list[bool] = []
        loop = QEventLoop()
        relay = _SaveWaiter(self.document, job, result, loop)
        if not result:
            loop.exec()
        relay.deleteLater()
        return bool(result and result[0])

    def _saved(self, path: Path) -> None:
        self.settings.add_recent(str(Path(path).resolve()))
        self.show_message(f"Saved {path}")

    def _fill_recent(self) -> None:
        self.menu_recent.clear()
        for p in self.settings.get("recent_files"):
            a = self.menu_recent.addAction(p)
            a.triggered.connect(lambda _c=False, p=p: self.open_paths([p]))
        if self.menu_recent.isEmpty():
            a = self.menu_recent.addAction("(none)")
            a.setEnabled(False)

    def export_dialog(self) -> None:
        """File > Export… (the dialog lives in editor.qt.dialogs.export)."""
        from .dialogs.export import ExportDialog

        dlg = self.export_dlg
        if dlg is None:  # one dialog, kept: a running export stays visible in it
            dlg = self.export_dlg = ExportDialog(self)
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if any(p.lower().endswith(EXTENSION) for p in paths):
            self.open_paths(paths)
        else:
            self.import_paths(paths)
        e.acceptProposedAction()

    # -- autosave / recovery ----------------------------------------------------------------------------
    def set_autosave_interval(self, seconds: int) -> None:
        self.autosave.setInterval(max(2, int(seconds)) * 1000)
        self.autosave.start()

    def write_recovery(self) -> bool:
        """Write the crash-recovery journal if the project changed since the last one."""
        entry = self.document.current_entry
        if entry is self._journal_index:
            return False
        try:
            write_journal(default_store(), self.project, self.document.path, self.document.modified)
        except SeedwaveError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return False
        self._journal_index = entry
        return True

