"""File > Batch…: run a chain (or one effect) over many files, as a background job.

The dialog picks what to run (the Chains panel's chain, a saved chain, a chain
file, or one effect with its default parameters), the inputs (files and folders,
added with buttons or dropped on the list), the output folder, the number of
worker processes and the output format. The run is a
:class:`~editor.jobs.batch.BatchRunner` on the window's job runner: the table
shows each file as it runs and ends (status, seconds, problem), Cancel (here or
in the Jobs panel) stops it, and the end of the run shows the summary, each
failure and where the report file is. A cancelled run still writes its report.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import SeedwaveError
from ...core.task import TaskContext
from ...effects.chainfile import OUTPUT_FORMATS, ChainSpec, list_saved_chains, load_chain
from ...engine.export import FORMATS
from ...jobs.batch import BatchProgress, BatchReport, BatchRunner, run_batch_task
from ...jobs.batch_plan import ItemResult
from ...jobs.runner import Job
from ..job_relay import JobRelay

COLUMNS = ("File", "Status", "Seconds", "Problem")
CHAIN_FILE = "file…"


class _Bridge(QObject):
    """Carries the runner's callbacks (on the job's thread) to the dialog (GUI thread)."""

    progress = Signal(object)  # BatchProgress (a copy)
    item = Signal(object)  # ItemResult


class InputList(QListWidget):
    """The inputs: files and folders; drop them here from a file manager."""

    dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.dropped.emit(paths)
            e.acceptProposedAction()


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A label whose Alt+letter moves the focus to ``widget``."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class BatchDialog(QDialog):
    """File > Batch… (non-modal; kept by the window so a running batch stays visible)."""

    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow
        super().__init__(window)
        self.w = window
        self.setWindowTitle("Batch")
        self.setAccessibleName("Batch processing")
        self.setModal(False)
        self.resize(760, 620)
        self.job: Job | None = None
        self.runner: BatchRunner | None = None
        self.report: BatchReport | None = None
        self.rows: dict[str, int] = {}
        self._files: dict[str, str] = {}  # chain files added through "Chain file…"
        self.bridge = _Bridge(self)
        self.bridge.progress.connect(self._progress)
        self.bridge.item.connect(self._item)
        lay = QVBoxLayout(self)

        form = QFormLayout()
        crow = QHBoxLayout()
        self.chain = QComboBox()
        self.chain.setAccessibleName("Chain or effect to run")
        self.chain.setToolTip("The Chains panel's chain, a saved chain, a chain file, or one effect")
        self.chain.activated.connect(self._chain_chosen)
        crow.addWidget(self.chain, 1)
        self.chain_file_button = QPushButton("Chain File…")
        self.chain_file_button.setAccessibleName("Choose a chain file")
        self.chain_file_button.clicked.connect(lambda: self.pick_chain_file())
        crow.addWidget(self.chain_file_button)
        form.addRow(_buddy("C&hain or effect:", self.chain), crow)

        irow = QHBoxLayout()
        self.inputs = InputList()
        self.inputs.setAccessibleName("Input files and folders")
        self.inputs.setToolTip("Files and folders (read recursively); drop them here")
        self.inputs.dropped.connect(self.add_inputs)
        self.inputs.setMaximumHeight(110)
        irow.addWidget(self.inputs, 1)
        ibuttons = QVBoxLayout()
        self.add_files_button = QPushButton("Add &Files…")
        self.add_files_button.setAccessibleName("Add input files")
        self.add_files_button.clicked.connect(self._add_files_dialog)
        self.add_folder_button = QPushButton("Add F&older…")
        self.add_folder_button.setAccessibleName("Add an input folder")
        self.add_folder_button.clicked.connect(self._add_folder_dialog)
        self.remove_input_button = QPushButton("Remove")
        self.remove_input_button.setAccessibleName("Remove selected inputs")
        self.remove_input_button.clicked.connect(self.remove_selected_inputs)
        for b in (self.add_files_button, self.add_folder_button, self.remove_input_button):
            ibuttons.addWidget(b)
        ibuttons.addStretch(1)
        irow.addLayout(ibuttons)
        form.addRow(_buddy("&Inputs:", self.inputs), irow)

        orow = QHBoxLayout()
        self.out_dir = QLineEdit()
        self.out_dir.setAccessibleName("Output folder")
        self.out_dir.setPlaceholderText("Where the outputs and the report go")
        self.out_browse = QPushButton("Browse…")
        self.out_browse.setAccessibleName("Choose the output folder")
        self.out_browse.clicked.connect(self._out_dialog)
        orow.addWidget(self.out_dir, 1)
        orow.addWidget(self.out_browse)
        form.addRow(_buddy("O&utput folder:", self.out_dir), orow)

        srow = QHBoxLayout()
        cores = os.cpu_count() or 1
        self.workers = QSpinBox()
        self.workers.setRange(1, max(1, cores * 2))
        self.workers.setValue(max(1, cores))
        self.workers.setAccessibleName("Worker processes")
        self.workers.setToolTip("Files processed at the same time (1 runs in this process)")
        self.out_format = QComboBox()
        self.out_format.setAccessibleName("Output format")
        self.out_format.setToolTip("The output files' format (the chain's choice, else each input's own)")
        self.out_format.addItem("As the chain says", None)
        for f in OUTPUT_FORMATS:
            self.out_format.addItem(FORMATS[f].title if f in FORMATS else f.upper(), f)
        srow.addWidget(_buddy("&Workers:", self.workers))
        srow.addWidget(self.workers)
        srow.addSpacing(12)
        srow.addWidget(_buddy("Forma&t:", self.out_format))
        srow.addWidget(self.out_format, 1)
        form.addRow("", srow)
        lay.addLayout(form)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Files")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        lay.addWidget(self.table, 1)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Batch progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress_text = QLabel("")
        self.progress_text.setAccessibleName("Batch progress text")
        lay.addWidget(self.progress)
        lay.addWidget(self.progress_text)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Batch summary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failures = QPlainTextEdit()
        self.failures.setReadOnly(True)
        self.failures.setAccessibleName("Batch failures")
        self.failures.setMaximumHeight(90)
        self.failures.hide()
        rrow = QHBoxLayout()
        self.report_label = QLabel("")
        self.report_label.setAccessibleName("Report file")
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_report_button = QPushButton("Open Output Fol&der")
        self.open_report_button.setAccessibleName("Open the output folder")
        self.open_report_button.setToolTip("Show the outputs and the report file in the file manager")
        self.open_report_button.clicked.connect(self.open_output_folder)
        self.open_report_button.setEnabled(False)
        rrow.addWidget(self.report_label, 1)
        rrow.addWidget(self.open_report_button)
        lay.addWidget(self.summary)
        lay.addWidget(self.failures)
        lay.addLayout(rrow)

        brow = QHBoxLayout()
        brow.addStretch(1)
        self.run_button = QPushButton("&Run")
        self.run_button.setAccessibleName("Run batch")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("&Cancel Run")
        self.cancel_button.setAccessibleName("Cancel batch")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close batch dialog")
        self.close_button.clicked.connect(self.close)
        for b in (self.run_button, self.cancel_button, self.close_button):
            brow.addWidget(b)
        lay.addLayout(brow)
        self.refresh_chains()

    # -- what to run ------------------------------------------------------------------------------------
    def refresh_chains(self, select_current: bool = False) -> None:
        """List the current chain, the saved chains, chain files picked before and the effects."""
        keep = self.chain.currentData()
        self.chain.clear()
        panel = getattr(self.w, "chain_panel", None)
        if panel is not None and panel.spec.chain:
            self.chain.addItem(f"Current chain: {panel.spec.title} ({len(panel.spec.chain)} steps)", "current:")
        for path, spec in list_saved_chains():
            if isinstance(spec, ChainSpec):
                self.chain.addItem(f"Saved chain: {spec.name or path.stem}", f"saved:{path}")
        for path in self._files:
            self.chain.addItem(f"Chain file: {Path(path).name}", f"file:{path}")
        for cls in sorted(self.w.registry.classes(), key=lambda k: k.title.casefold()):
            if not cls.outputs:
                self.chain.addItem(f"Effect: {cls.title} (default parameters)", f"effect:{cls.id}")
        i = 0 if select_current else self.chain.findData(keep)
        self.chain.setCurrentIndex(max(0, i))

    def select_chain(self, kind: str, value: str = "") -> None:
        i = self.chain.findData(f"{kind}:{value}")
        if i < 0:
            raise KeyError((kind, value))
        self.chain.setCurrentIndex(i)

    def pick_chain_file(self, path: str | None = None) -> bool:
        if path is None:
            from ..panels.chains import CHAIN_FILTER

            path, _ = QFileDialog.getOpenFileName(self, "Chain file", "", CHAIN_FILTER)
            if not path:
                return False
        self._files[str(path)] = str(path)
        self.refresh_chains()
        self.select_chain("file", str(path))
        return True

    def _chain_chosen(self, _index: int) -> None:
        self.summary.setText("")

    def chosen_spec(self) -> ChainSpec:
        kind, _, value = str(self.chain.currentData() or "").partition(":")
        if kind == "current":
            spec = self.w.chain_panel.spec
        elif kind in ("saved", "file"):
            spec = load_chain(value)
        elif kind == "effect":
            spec = ChainSpec.single(value)
        else:
            raise SeedwaveError("choose a chain or an effect to run")
        fmt = self.out_format.currentData()
        if fmt is not None:
            lossy = fmt in FORMATS and FORMATS[fmt].lossy
            spec = replace(spec, output=replace(spec.output, format=fmt,
                                                bits=None if lossy else spec.output.bits))
        return spec

    # -- inputs and output ---------------------------------------------------------------------------------------
    def input_paths(self) -> list[str]:
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def add_inputs(self, paths: list[str]) -> None:
        have = set(self.input_paths())
        for p in paths:
            if p and p not in have:
                self.inputs.addItem(p)
                have.add(p)
        if not self.out_dir.text() and paths:
            first = Path(paths[0])
            self.out_dir.setText(str((first if first.is_dir() else first.parent).parent / "seedwave-batch"))

    def remove_selected_inputs(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    def _add_files_dialog(self) -> None:
        from ..project_files import AUDIO_FILTER

        paths, _ = QFileDialog.getOpenFileNames(self, "Add input files", "", AUDIO_FILTER)
        self.add_inputs(paths)

    def _add_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add an input folder")
        if path:
            self.add_inputs([path])

    def _out_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder", self.out_dir.text())
        if path:
            self.out_dir.setText(path)

    # -- running ---------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.active

    def start(self) -> Job | None:
        """Start the run in the background; None (and a message) if something is missing."""
        if self.running:
            return None
        inputs = self.input_paths()
        out = self.out_dir.text().strip()
        if not inputs:
            return self._refuse("Add input files or folders first")
        if not out:
            return self._refuse("Choose an output folder first")
        try:
            spec = self.chosen_spec()
            runner = BatchRunner(spec, inputs, Path(out).expanduser(), workers=self.workers.value(),
                                 device=self.w.host.models.device_policy(),
                                 on_progress=lambda p: self.bridge.progress.emit(
                                     replace(p, running=dict(p.running))),
                                 on_item=self.bridge.item.emit)
        except (SeedwaveError, ValueError) as exc:
            return self._refuse(str(exc))
        self.runner = runner
        self.report = None
        self.rows.clear()
        self.table.setRowCount(0)
        self.summary.setText("")
        self.summary.setStyleSheet("")
        self.failures.clear()
        self.failures.hide()
        self.report_label.setText("")
        self.open_report_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress_text.setText("Looking at the inputs…")
        holder: dict[str, BatchReport] = {}

        def work(ctx: TaskContext) -> BatchReport:
            # A cancel from the Jobs panel (or the window closing) reaches the runner at once,
            # not only at the next progress report.
            stop = threading.Event()

            def watch() -> None:
                while not stop.wait(0.1):
                    if ctx.cancelled:
                        runner.cancel()
                        return

            watcher = threading.Thread(target=watch, name="batch-cancel", daemon=True)
            watcher.start()
            try:
                holder["report"] = report = run_batch_task(runner, ctx)
            finally:
                stop.set()
                watcher.join()
            return report

        job = Job(f"Batch: {spec.title}", work, kind="batch")
        self.job = job
        JobRelay(self, job, lambda r: self._ended(job, r), lambda m: self._failed(job, m),
                 lambda: self._ended(job, holder.get("report")))
        self._set_running(True)
        self.w.jobs.submit(job)
        return job

    def _refuse(self, text: str) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet("color: #d04040;")
        self.w.show_message(text)
        return None

    def cancel(self) -> None:
        if self.running:
            if self.runner is not None:
                self.runner.cancel()
            self.job.cancel()
            self.progress_text.setText("Cancelling: files that are running stop at their next chunk…")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        for wdg in (self.chain, self.chain_file_button, self.inputs, self.add_files_button, self.add_folder_button,
                    self.remove_input_button, self.out_dir, self.out_browse, self.workers, self.out_format):
            wdg.setEnabled(not on)

    def _row(self, key: str) -> int:
        row = self.rows.get(key)
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for col in range(len(COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(""))
            self.table.item(row, 0).setText(self._short(key))
            self.table.item(row, 0).setToolTip(key)
            self.rows[key] = row
        return row

    def _short(self, key: str) -> str:
        """An input as the table shows it: from its folder's name on (the full path in the tooltip)."""
        path = Path(key)
        for root in self.input_paths():
            r = Path(root)
            if r.is_dir() and path.is_relative_to(r):
                return str(Path(r.name) / path.relative_to(r))
        return path.name

    def _set(self, key: str, status: str, seconds: str = "", problem: str = "") -> None:
        row = self._row(key)
        self.table.item(row, 1).setText(status)
        self.table.item(row, 2).setText(seconds)
        self.table.item(row, 3).setText(problem)
        self.table.item(row, 3).setToolTip(problem)

    def status_of(self, key: str) -> str:
        """The Status cell of ``key``'s row ('' if it has none)."""
        row = self.rows.get(key)
        return self.table.item(row, 1).text() if row is not None else ""

    def _progress(self, p: BatchProgress) -> None:
        if not self.running and self.report is not None:
            return
        self.progress.setValue(int(round(p.fraction * 1000)))
        self.progress_text.setText(p.text())
        for key, fraction in p.running.items():
            if self.status_of(key) in ("", "queued") or self.status_of(key).startswith("running"):
                self._set(key, f"running {fraction * 100:.0f} %")

    def _item(self, r: ItemResult) -> None:
        problem = r.error
        if r.status == "failed" and problem.startswith(r.input + ": "):
            problem = problem[len(r.input) + 2:]
        self._set(r.input, r.status, f"{r.seconds:.1f}" if r.seconds else "", problem)

    def _ended(self, job: Job, report: BatchReport | None) -> None:
        if job is not self.job:
            return
        self._set_running(False)
        if report is None:
            self.summary.setText(f"{job.title}: cancelled before it started")
            return
        self.show_report(report)

    def _failed(self, job: Job, message: str) -> None:
        if job is not self.job:
            return
        self._set_running(False)
        self.progress_text.setText("")
        self.summary.setText(f"Batch failed: {message}")
        self.summary.setStyleSheet("color: #d04040;")
        self.w.show_error(f"Batch failed: {message}")

    def show_report(self, report: BatchReport) -> None:
        """The end of a run: every file's final row, the summary, the failures, the report file."""
        self.report = report
        for r in report.items:
            self._item(r)
        self.progress.setValue(1000 if not report.cancelled else self.progress.value())
        self.progress_text.setText("Cancelled" if report.cancelled else "Finished")
        self.summary.setText(("Cancelled. " if report.cancelled else "") + report.summary())
        self.summary.setStyleSheet("" if report.ok else "color: #c77d00;")
        fails = report.failures
        self.failures.setPlainText("\n".join(r.error or f"{r.input}: failed" for r in fails))
        self.failures.setVisible(bool(fails))
        path = report.report_path
        self.report_label.setText(f"Report: {path}" if path else f"Outputs in {report.out_dir}")
        self.open_report_button.setEnabled(True)
        self.w.show_message(f"Batch {'cancelled' if report.cancelled else 'finished'}: {report.summary()}")

    def open_output_folder(self) -> None:
        if self.report is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.out_dir)))

    def closeEvent(self, e: Any) -> None:  # noqa: N802 - a running batch goes on (the Jobs panel shows it)
        super().closeEvent(e)
