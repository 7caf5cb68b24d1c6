"""The model manager: the model files effects declare, installed or not; download, import, remove.

Every :class:`~editor.effects.base.ModelSpec` any registered effect declares is a
row (files shared by several effects appear once). Download fetches the selected
files as one job on ``window.jobs`` (resuming partial files, verifying checksums),
with a progress bar and Cancel here and in the jobs panel. "Import model file…"
installs a file the user already has, recognised by its SHA-256.

Below them, "Shipped with Seedwave" lists the weights plugins carry in their
package (:mod:`editor.effects.shipped`): the SHA-256 of the file as installed
(checked against the plugin's manifest), the training step and commit recorded in
the weights, the licence, and the model card of the selected one.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core.task import TaskContext
from ...effects.base import ModelSpec
from ...effects.models import ModelManager
from ...effects.shipped import ShippedModel, shipped_models
from ...jobs.runner import Job

COLUMNS = ("Model", "Used by", "File", "Size", "Status")
SHIPPED_COLUMNS = ("Model", "Plugin", "File", "SHA-256", "Training", "Licence")


def declared_models(window) -> list[tuple[ModelSpec, list[str]]]:  # noqa: ANN001 - MainWindow
    """Every model file the registered effects declare, with the titles of the effects that use it."""
    out: dict[str, tuple[ModelSpec, list[str]]] = {}
    for cls in window.effects.registry.classes():
        for spec in cls.models:
            entry = out.setdefault(spec.filename, (spec, []))
            if cls.title not in entry[1]:
                entry[1].append(cls.title)
    return sorted(out.values(), key=lambda e: e[0].name.casefold())


def _size(n: int) -> str:
    if not n:
        return "?"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _table(columns: tuple[str, ...], name: str, stretch: int) -> QTableWidget:
    """A read-only table of whole-row selection, columns sized to their contents but ``stretch``."""
    table = QTableWidget(0, len(columns))
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    for col in range(len(columns)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(False)
    return table


def _select_row(table: QTableWidget, keys: list[str], key: str) -> None:
    """Select the row whose key is ``key`` (KeyError when there is none)."""
    if key not in keys:
        raise KeyError(key)
    table.selectRow(keys.index(key))


class _Relay(QObject):
    """Queues a job's outcome to the GUI thread."""

    def __init__(self, parent: QObject, ok, fail, cancelled) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._ok, self._fail, self._cancelled = ok, fail, cancelled

    def ok(self, result: object) -> None:
        self._ok(result)
        self.deleteLater()

    def fail(self, message: str) -> None:
        self._fail(message)
        self.deleteLater()

    def cancelled(self) -> None:
        self._cancelled()
        self.deleteLater()


class ModelsDialog(QDialog):
    """Non-modal: downloads run in the background while the user goes on editing."""

    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow
        super().__init__(window)
        self.w = window
        self.job: Job | None = None
        self.setWindowTitle("Models")
        self.setAccessibleName("Model manager")
        self.resize(860, 620)
        lay = QVBoxLayout(self)
        self.folder = QLabel()
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder.setAccessibleName("Model folder")
        lay.addWidget(self.folder)
        self.table = _table(COLUMNS, "Models", stretch=1)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.table, 2)
        shipped_label = QLabel("Shipped with Seedwave (always installed):")
        lay.addWidget(shipped_label)
        self.shipped_table = _table(SHIPPED_COLUMNS, "Shipped models", stretch=len(SHIPPED_COLUMNS) - 1)
        self.shipped_table.setToolTip("Model weights that come with Seedwave's plugins; select one for its model card")
        self.shipped_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        shipped_label.setBuddy(self.shipped_table)
        self.shipped_table.itemSelectionChanged.connect(self._show_card)
        lay.addWidget(self.shipped_table, 1)
        self.card = QTextBrowser()
        self.card.setAccessibleName("Model card")
        self.card.setOpenExternalLinks(False)
        lay.addWidget(self.card, 2)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Model manager message")
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.setAccessibleName("Download model")
        self.download_button.setToolTip("Download the selected models (needs a connection)")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setAccessibleName("Cancel download")
        self.cancel_button.clicked.connect(self.cancel)
        self.import_button = QPushButton("Import model file…")
        self.import_button.setAccessibleName("Import model file")
        self.import_button.clicked.connect(lambda: import_model_dialog(self.w, self))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove model")
        self.remove_button.setToolTip("Delete the selected downloaded or imported model files")
        self.remove_button.clicked.connect(self.remove_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for b in (self.download_button, self.cancel_button, self.import_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.rows: list[ModelSpec] = []
        self.shipped: list[ShippedModel] = []
        self.refresh()

    def manager(self) -> ModelManager:
        return self.w.effects.models()

    def refresh(self) -> None:
        mgr = self.manager()
        self.folder.setText(f"Model folder: {mgr.folder}")
        models = declared_models(self.w)
        self.rows = [spec for spec, _users in models]
        self.table.setRowCount(len(models))
        for r, (spec, users) in enumerate(models):
            installed = mgr.is_installed(spec)
            status = "Installed" if installed else ("Not installed" if spec.url else "Not installed (import only)")
            cells = (spec.name, ", ".join(users), spec.filename, _size(spec.size), status)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                tip = "\n".join(x for x in (spec.description, spec.license, spec.url) if x)
                if tip:
                    item.setToolTip(tip)
                self.table.setItem(r, c, item)
        self._refresh_shipped()
        if not models and not self.shipped:
            self.message.setText("No installed effect declares a model.")
        self._update_buttons()

    # -- shipped weights ---------------------------------------------------------------------
    def _refresh_shipped(self) -> None:
        keep = self.selected_shipped()
        self.shipped = shipped_models(self.w.host.plugins)
        self.shipped_table.setRowCount(len(self.shipped))
        for r, m in enumerate(self.shipped):
            check = "" if m.verified else " (differs from the plugin's manifest)"
            cells = (m.title, m.plugin, f"{m.path.name} ({_size(m.size)})", m.sha256 + check,
                     m.provenance() or "not recorded", m.licence)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{m.title}\nSHA-256 {m.sha256}{check}\n{m.provenance()}\n{m.licence}".strip())
                self.shipped_table.setItem(r, c, item)
        if self.shipped:
            ids = [m.id for m in self.shipped]
            self.shipped_table.selectRow(ids.index(keep.id) if keep is not None and keep.id in ids else 0)
        self._show_card()

    def selected_shipped(self) -> ShippedModel | None:
        rows = [i.row() for i in self.shipped_table.selectionModel().selectedRows()] if self.shipped else []
        return self.shipped[rows[0]] if rows and 0 <= rows[0] < len(self.shipped) else None

    def select_shipped(self, model_id: str) -> None:
        _select_row(self.shipped_table, [m.id for m in self.shipped], model_id)

    def _show_card(self) -> None:
        m = self.selected_shipped()
        if m is None:
            self.card.setPlainText("")
            return
        facts = [f"**{m.title}** ({m.plugin}), shipped as `{m.path.name}`", "",
                 f"- SHA-256: `{m.sha256}`" + ("" if m.verified else " — differs from the plugin's manifest "
                                                 f"(`{m.manifest_sha256 or 'none'}`)"),
                 f"- Training: {m.provenance() or 'not recorded in the weights'}"
                 + (f" ({m.trained_by})" if m.trained_by else ""),
                 f"- Licence: {m.licence or 'see the model card'}", "", "---", ""]
        self.card.setMarkdown("\n".join(facts) + (m.card_text() or "No model card found."))

    def selected(self) -> list[ModelSpec]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if 0 <= r < len(self.rows)]

    def select_model(self, filename: str) -> None:
        _select_row(self.table, [spec.filename for spec in self.rows], filename)

    def _update_buttons(self) -> None:
        busy = self.job is not None and self.job.active
        mgr = self.manager()
        sel = self.selected()
        self.download_button.setEnabled(not busy and any(s.url and not mgr.is_installed(s) for s in sel))
        self.remove_button.setEnabled(not busy and any(mgr.path_for(s).is_file() for s in sel))
        self.cancel_button.setEnabled(busy)
        self.cancel_button.setVisible(busy)

    # -- download ------------------------------------------------------------------------------
    def download_selected(self) -> Job | None:
        mgr = self.manager()
        todo = [s for s in self.selected() if s.url and not mgr.is_installed(s)]
        if not todo:
            self.message.setText("Select a model that is not installed yet.")
            return None

        def work(ctx: TaskContext) -> list[Path]:
            paths = []
            for i, spec in enumerate(todo):
                paths.append(mgr.download(spec, ctx.sub(i / len(todo), (i + 1) / len(todo))))
            return paths

        names = ", ".join(s.name for s in todo)
        job = Job(f"Download {names}", work, kind="download")
        relay = _Relay(self, self._downloaded, self._failed, self._cancelled)
        job.finished.connect(relay.ok)
        job.failed.connect(relay.fail)
        job.cancelled.connect(relay.cancelled)
        job.progressed.connect(self._progress)
        self.job = job
        self.progress.setValue(0)
        self.progress.show()
        self.message.setText(f"Downloading {names}…")
        self.w.jobs.submit(job)
        self._update_buttons()
        return job

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.message.setText(message)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _end(self, text: str) -> None:
        self.job = None
        self.progress.hide()
        self.message.setText(text)
        self.refresh()
        self.w.effect_panel._update_model_note()
        self.w.host.models.changed.emit()

    def _downloaded(self, paths: list[Path]) -> None:
        self._end(f"Installed {', '.join(p.name for p in paths)}")

    def _failed(self, message: str) -> None:
        self._end(f"Download failed: {message}")
        self.w.show_error(message)

    def _cancelled(self) -> None:
        self._end("Download cancelled; the next download resumes where this one stopped.")

    # -- remove -----------------------------------------------------------------------------------
    def remove_selected(self) -> None:
        mgr = self.manager()
        removed = [s.filename for s in self.selected() if mgr.remove(s)]
        self._end(f"Removed {', '.join(removed)}" if removed else "Nothing to remove")


def import_model_dialog(window, parent: QWidget | None = None) -> Job | None:  # noqa: ANN001 - MainWindow
    """Ask for a model file and install it as the known model it is (checked by SHA-256)."""
    path, _ = QFileDialog.getOpenFileName(parent or window, "Import model file", str(Path.home()),
                                          "Model files (*.th *.pt *.pth *.ckpt *.onnx *.bin *.safetensors);;"
                                          "All files (*)")
    if not path:
        return None
    specs = [spec for spec, _users in declared_models(window)]
    mgr = window.effects.models()

    def work(ctx: TaskContext) -> ModelSpec:
        return mgr.import_file(Path(path), specs, ctx)

    job = Job(f"Import {Path(path).name}", work, kind="download")

    def done(spec: ModelSpec) -> None:
        window.show_message(f"Installed the model {spec.name} ({spec.filename})")
        _refresh(window)

    def failed(message: str) -> None:
        window.show_error(f"Import model file: {message}")
        _refresh(window)

    relay = _Relay(window, done, failed, lambda: None)
    job.finished.connect(relay.ok)
    job.failed.connect(relay.fail)
    job.cancelled.connect(relay.cancelled)
    window.jobs.submit(job)
    return job


def _refresh(window) -> None:  # noqa: ANN001 - MainWindow
    dlg = window.models_dialog
    if dlg is not None:
        dlg.refresh()
    window.effect_panel._update_model_note()
    window.host.models.changed.emit()
