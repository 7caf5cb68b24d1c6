"""File and project lifecycle: new, open, import, save, export, drag and drop, autosave.

A part of :class:`~editor.qt.main_window.MainWindow` (a mixin: it uses the window's
``document``, ``settings``, ``jobs``, ``state`` and message helpers). Saving runs as a
job in :meth:`Document.save`; its end arrives as the document's ``saved`` or
``save_failed`` signal, so nothing waits in a loop. Closing with unsaved changes and
"Save" closes once ``saved`` has arrived.
"""

from __future__ import annotations

import json
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
SUPPORTED_FILTER = f"All supported files (*{EXTENSION} " + " ".join(f"*{e}" for e in AUDIO_EXTENSIONS) + ")"
FOLDER_KEY = "files/last_folder"  # File > Open and Import start where the user last opened a file
HEIGHTS_KEY = "view/track_heights"  # per project file: the track heights the user set (view state)
MAX_REMEMBERED = 50


class Opened:
    """What an open job read, before anything in the window changes: a project file's
    project, or audio files' imports (with the rate the new project will have)."""

    def __init__(self, paths: list[str], project: Project | None = None,
                 imports: list[ImportedAudio] | None = None, rate: int = 0,
                 warnings: list[str] | None = None) -> None:
        self.paths, self.project, self.imports, self.rate = paths, project, imports or [], rate
        self.warnings = warnings or []  # what loading repaired (NaN audio became silence, ...)

    def new_project(self) -> Project:
        if self.project is not None:
            return self.project
        project = Project(sample_rate=self.rate, name=Path(self.paths[0]).stem)
        for imp in self.imports:
            for seq, name in zip(imp.sequences, imp.names, strict=True):
                project = edits.add_track(project, name, (Clip(seq, 0, name=name),))
        return project


def read_for_open(paths: list[str], ctx: TaskContext) -> Opened:
    """Read a project file, or audio files as a new project (in a job: nothing is replaced
    until this has succeeded; any problem is one line naming the file)."""
    projects = [p for p in paths if p.lower().endswith(EXTENSION)]
    if projects:
        ctx.progress(0.0, f"Reading {Path(projects[0]).name}")
        warnings: list[str] = []
        project = load_project(projects[0], warnings, ctx)
        return Opened([projects[0]], project=project, warnings=warnings)
    imports: list[ImportedAudio] = []
    rate = 0
    for i, path in enumerate(paths):
        rate = rate or probe(path).sample_rate
        imports.append(import_audio(path, default_store(), ctx.sub(i / len(paths), (i + 1) / len(paths)),
                                    target_rate=rate))
    return Opened(list(paths), imports=imports, rate=rate)


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

    def last_folder(self) -> str:
        folder = self.settings.q.value(FOLDER_KEY, "")
        return str(folder) if folder and Path(str(folder)).is_dir() else str(Path.home())

    def remember_folder(self, path: str) -> None:
        self.settings.q.setValue(FOLDER_KEY, str(Path(path).resolve().parent))

    def open_dialog(self) -> None:
        """File > Open: any supported file (a project, or audio as a new project)."""
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.last_folder(),
                                              f"{SUPPORTED_FILTER};;{PROJECT_FILTER};;{AUDIO_FILTER};;All files (*)")
        if path:
            self.remember_folder(path)
            self.open_paths([path])

    def import_dialog(self) -> None:
        """File > Import Audio (Ctrl+Shift+I): files become tracks of the current project."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Import audio", self.last_folder(),
                                                f"{AUDIO_FILTER};;All files (*)")
        if paths:
            self.remember_folder(paths[0])
            self.import_paths(paths)

    def open_paths(self, paths: list[str]) -> Job | None:
        """Open a project file, or audio files as a new project.

        The files are read first, in a job; only when that succeeded is the user asked
        about unsaved changes and the project replaced. A file that cannot be read is
        one message, and the open project stays as it was."""
        if not paths:
            return None
        job = Job(f"Open {Path(paths[0]).name}", lambda ctx: read_for_open(list(paths), ctx), kind="import")
        job.setProperty("open", True)
        job.finished.connect(self._open_read)
        job.failed.connect(self._import_failed)
        job.cancelled.connect(self._import_cancelled)
        self.jobs.submit(job)
        return job

    def _open_read(self, opened: Opened) -> None:
        job = self.sender()
        if self.maybe_save(lambda: self._replace_with(opened, job)):
            self._replace_with(opened, job)
        elif job is not None:
            self.show_message(f"Open {Path(opened.paths[0]).name}: the current project was kept")
            self.import_finished.emit(job)

    def _replace_with(self, opened: Opened, job: Job | None) -> None:
        """Swap the read project in (the old one is gone from here on)."""
        first = Path(opened.paths[0])
        if opened.project is not None:
            self.set_project(opened.project, first)
            self.restore_heights(first)
        else:
            self.set_project(opened.new_project(), None, f"Open {first.name}")
        self.document.mark_saved()  # opening a file is not a change: closing right away asks nothing
        for p in opened.paths:
            self.settings.add_recent(str(Path(p).resolve()))
        for w in opened.warnings:
            self.show_message(w)
        for imp in opened.imports:
            for w in imp.warnings:
                self.show_message(w)
            self._cache_aliases(imp)
        if job is not None:
            self.import_finished.emit(job)

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
        self.document.push(new, f"Import {path.name}")
        if first_import:
            self.fit_project()
        for w in imp.warnings:
            self.show_message(w)
        self._cache_aliases(imp)
        if job is not None:
            self.import_finished.emit(job)

    def _cache_aliases(self, imp: ImportedAudio) -> None:
        """Copy aliased audio into the cache in the background, so the project no
        longer depends on the source file."""
        blocks = imp.blocks()
        if any(b.backing.describe()["kind"] == "alias" for b in blocks):
            def cache(ctx: TaskContext, blocks=blocks) -> None:
                default_store().cache_aliases(blocks, ctx)

            self.jobs.run(f"Cache {Path(imp.info.path).name}", cache, kind="cache")

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

    def _view_settings(self) -> dict:
        try:
            data = json.loads(str(self.settings.q.value(HEIGHTS_KEY, "{}")))
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def remember_heights(self, path: Path) -> None:
        """Keep the tracks' heights for this project file (view settings, not the project)."""
        lanes = self.timeline.lanes
        heights = {t.id: lanes.display_for(t.id).height for t in self.project.tracks
                   if lanes.display_for(t.id).height is not None}
        data = self._view_settings()
        key = str(Path(path).resolve())
        data.pop(key, None)
        if heights:
            data[key] = heights
        self.settings.q.setValue(HEIGHTS_KEY, json.dumps(dict(list(data.items())[-MAX_REMEMBERED:])))

    def restore_heights(self, path: Path) -> None:
        heights = self._view_settings().get(str(Path(path).resolve()), {})
        lanes = self.timeline.lanes
        for t in self.project.tracks:
            h = heights.get(t.id) if isinstance(heights, dict) else None
            if isinstance(h, int):
                lanes.set_height(t.id, h)

    def _saved(self, path: Path) -> None:
        self.remember_heights(Path(path))
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

