"""File > Export…: a non-modal dialog that exports the mix (or each track) as a job.

The user picks what to export (the whole project, the selection's time range or
the loop range), the format and its options, loudness normalisation and tags.
The export runs on ``window.jobs`` with a snapshot of the project, so the app
stays usable: progress shows in the dialog and the status bar, and Cancel stops
it within a chunk. The exporter writes to a temporary name and renames at the
end, so a cancelled or failed export leaves nothing under the target name, and
an existing file is replaced only after the user said yes.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
)

from ...core.errors import SeedwaveError
from ...core.model import Project
from ...core.task import TaskContext
from ...core.timefmt import format_hms
from ...engine.export import (
    FORMATS,
    ExportReport,
    ExportSettings,
    export_mix,
    export_stems,
    plan_export,
    stem_file_name,
)
from ...engine.renderer import audible_tracks
from ...engine.writers import mp3_bitrates
from ...jobs.runner import Job

#: Formats in the order the menu lists them.
FORMAT_ORDER = ("wav", "flac", "ogg", "opus", "mp3", "aiff")
RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 176400, 192000)
#: Loudness presets: (label, integrated LUFS, true-peak ceiling dBTP).
PRESETS = (
    ("Streaming (−14 LUFS, −1 dBTP)", -14.0, -1.0),
    ("Podcast (−16 LUFS, −1 dBTP)", -16.0, -1.0),
    ("Broadcast EBU R128 (−23 LUFS, −1 dBTP)", -23.0, -1.0),
)
#: Tag fields: (tag name understood by the exporter, label).
TAGS = (("title", "Title"), ("artist", "Artist"), ("album", "Album"), ("date", "Year"),
        ("tracknumber", "Track number"), ("genre", "Genre"), ("comment", "Comment"))
RANGES = (("all", "Whole project"), ("selection", "Selection"), ("loop", "Loop range"))


def _depth_label(bits: int | str) -> str:
    return "32-bit float" if bits == "float" else ("32-bit integer" if bits == 32 else f"{bits}-bit")


def _safe_name(name: str) -> str:
    bad = '<>:"/\\|?*\0'
    return "".join("_" if (c in bad or ord(c) < 32) else c for c in name).strip(" .") or "Untitled"


class ExportDialog(QDialog):
    """Export settings, a progress bar and Cancel; see the module docstring."""

    export_finished = Signal(object)  # ExportReport (mix) or list[Path] (stems)
    export_failed = Signal(str)
    export_cancelled = Signal()

    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow (import cycle)
        super().__init__(window)
        self.main = window
        self.job: Job | None = None
        self._target = ""  # what the running job writes, for messages
        self._auto_path = True  # the file/folder fields follow the project until the user edits them
        self._shown_rate = 0  # the project rate the rate menu names
        self.setWindowTitle("Export")
        self.setModal(False)
        self.setAccessibleName("Export")

        # -- what -----------------------------------------------------------------
        what = QGroupBox("Export")
        wf = QFormLayout(what)
        self.range_combo = QComboBox()
        self.range_combo.setAccessibleName("Range to export")
        for key, label in RANGES:
            self.range_combo.addItem(label, key)
        self.range_label = QLabel()
        self.range_label.setAccessibleName("Range times")
        wf.addRow("Range:", self.range_combo)
        wf.addRow("", self.range_label)
        self.mix_radio = QRadioButton("The mix, to one file")
        self.stems_radio = QRadioButton("Each track to its own file (stems)")
        self.mix_radio.setChecked(True)
        wf.addRow("Output:", self.mix_radio)
        wf.addRow("", self.stems_radio)
        self.path_edit = QLineEdit()
        self.path_edit.setAccessibleName("File to export to")
        self.folder_edit = QLineEdit()
        self.folder_edit.setAccessibleName("Folder for the track files")
        self.browse_btn = QToolButton()
        self.browse_btn.setText("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.folder_edit, 1)
        path_row.addWidget(self.browse_btn)
        self.path_caption = QLabel("File:")
        wf.addRow(self.path_caption, path_row)
        self.what_form = wf

        # -- format -----------------------------------------------------------------
        fmt = QGroupBox("Format")
        ff = QFormLayout(fmt)
        self.format_combo = QComboBox()
        self.format_combo.setAccessibleName("Format")
        for key in FORMAT_ORDER:
            self.format_combo.addItem(FORMATS[key].title, key)
        self.bits_combo = QComboBox()
        self.bits_combo.setAccessibleName("Bit depth")
        self.rate_combo = QComboBox()
        self.rate_combo.setAccessibleName("Sample rate")
        self.channels_combo = QComboBox()
        self.channels_combo.setAccessibleName("Channels")
        self.channels_combo.addItem("Stereo", 2)
        self.channels_combo.addItem("Mono (left and right averaged)", 1)
        self.bitrate_combo = QComboBox()
        self.bitrate_combo.setAccessibleName("MP3 bitrate")
        self.dither_check = QCheckBox("Dither when reducing the bit depth")
        self.dither_check.setChecked(True)
        self.dither_check.setToolTip("Adds TPDF dither before rounding to 16 or 24 bits, so quiet passages keep "
                                     "their detail instead of distorting")
        ff.addRow("Format:", self.format_combo)
        ff.addRow("Bit depth:", self.bits_combo)
        ff.addRow("Sample rate:", self.rate_combo)
        ff.addRow("Channels:", self.channels_combo)
        ff.addRow("Bitrate:", self.bitrate_combo)
        ff.addRow("", self.dither_check)
        self.format_form = ff

        # -- loudness ---------------------------------------------------------------------
        loud = QGroupBox("Normalise")
        lf = QFormLayout(loud)
        self.norm_combo = QComboBox()
        self.norm_combo.setAccessibleName("Normalise")
        self.norm_combo.addItem("None", "none")
        self.norm_combo.addItem("Peak", "peak")
        self.norm_combo.addItem("Loudness (LUFS)", "lufs")
        self.preset_combo = QComboBox()
        self.preset_combo.setAccessibleName("Loudness preset")
        for label, lufs, tp in PRESETS:
            self.preset_combo.addItem(label, (lufs, tp))
        self.preset_combo.addItem("Custom", None)
        self.lufs_spin = self._spin(-70.0, 0.0, -14.0, " LUFS", "Integrated loudness target")
        self.tp_spin = self._spin(-30.0, 0.0, -1.0, " dBTP", "True-peak ceiling")
        self.peak_spin = self._spin(-60.0, 0.0, -1.0, " dBFS", "Peak target")
        lf.addRow("Normalise:", self.norm_combo)
        lf.addRow("Preset:", self.preset_combo)
        lf.addRow("Target:", self.lufs_spin)
        lf.addRow("True-peak ceiling:", self.tp_spin)
        lf.addRow("Peak:", self.peak_spin)
        self.loud_form = lf

        # -- tags -------------------------------------------------------------------------------
        tags = QGroupBox("Tags")
        tf = QFormLayout(tags)
        self.tag_edits: dict[str, QLineEdit] = {}
        for key, label in TAGS:
            e = QLineEdit()
            e.setAccessibleName(f"{label} tag")
            self.tag_edits[key] = e
            tf.addRow(f"{label}:", e)
        self.tags_note = QLabel()
        self.tags_note.setWordWrap(True)
        tf.addRow(self.tags_note)

        # -- progress and buttons ---------------------------------------------------------------
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Export progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Export status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_btn = QPushButton("Export")
        self.export_btn.setDefault(True)
        self.cancel_btn = QPushButton("Cancel export")
        self.cancel_btn.setEnabled(False)
        self.close_btn = QPushButton("Close")
        self.close_btn.setToolTip("Close this window; a running export goes on (see the status bar)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addWidget(self.close_btn)

        left = QVBoxLayout()
        left.addWidget(what)
        left.addWidget(fmt)
        right = QVBoxLayout()
        right.addWidget(loud)
        right.addWidget(tags)
        right.addStretch(1)
        cols = QHBoxLayout()
        cols.addLayout(left, 3)
        cols.addLayout(right, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(cols)
        lay.addWidget(self.status)
        lay.addLayout(buttons)

        # -- wiring ---------------------------------------------------------------------------------
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.rate_combo.currentIndexChanged.connect(self._rate_changed)
        self.bits_combo.currentIndexChanged.connect(self._update_enabled)
        self.norm_combo.currentIndexChanged.connect(self._update_enabled)
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        self.lufs_spin.valueChanged.connect(self._match_preset)
        self.tp_spin.valueChanged.connect(self._match_preset)
        self.range_combo.currentIndexChanged.connect(self._update_range_label)
        self.mix_radio.toggled.connect(self._update_enabled)
        self.path_edit.textEdited.connect(self._user_edited_path)
        self.folder_edit.textEdited.connect(self._user_edited_path)
        self.browse_btn.clicked.connect(self.browse)
        self.export_btn.clicked.connect(self.start_export)
        self.cancel_btn.clicked.connect(self.cancel_export)
        self.close_btn.clicked.connect(self.close)
        window.state.selection_changed.connect(self._update_ranges)
        window.document.changed.connect(self._project_changed)
        window.act_loop.triggered.connect(self._update_ranges)  # connected after the window's: state.loop is set

        last = str(window.settings.get("export/format") or "wav")
        i = self.format_combo.findData(last if last in FORMAT_ORDER else "wav")
        self.format_combo.setCurrentIndex(i)
        self._format_changed()
        self._preset_chosen()
        self._update_ranges()

    @staticmethod
    def _spin(lo: float, hi: float, value: float, suffix: str, name: str) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(1)
        s.setSingleStep(0.5)
        s.setValue(value)
        s.setSuffix(suffix)
        s.setAccessibleName(name)
        return s

    # -- state --------------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.main.project

    @property
    def format(self) -> str:
        return self.format_combo.currentData()

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.active

    def settings(self) -> ExportSettings:
        """The export settings the dialog shows."""
        spec = FORMATS[self.format]
        return ExportSettings(
            format=self.format,
            sample_rate=self.rate_combo.currentData(),
            bits=None if spec.lossy else self.bits_combo.currentData(),
            channels=self.channels_combo.currentData(),
            mp3_bitrate=self.bitrate_combo.currentData() or 192,
            normalize=self.norm_combo.currentData(),
            lufs=self.lufs_spin.value(),
            true_peak_db=self.tp_spin.value(),
            peak_db=self.peak_spin.value(),
            dither=self.dither_check.isChecked(),
            tags={k: e.text().strip() for k, e in self.tag_edits.items() if e.text().strip()},
        )

    def export_range(self) -> tuple[int, int]:
        """Timeline frames [start, stop) chosen in the range box."""
        key = self.range_combo.currentData()
        st = self.main.state
        if key == "selection" and st.has_range:
            return st.sel_start, st.sel_stop
        if key == "loop" and st.loop is not None:
            return st.loop
        return 0, self.project.end

    # -- showing ------------------------------------------------------------------------------------
    def showEvent(self, e: QShowEvent) -> None:  # noqa: N802
        self._update_ranges()
        if self._auto_path and not self.running:
            self._fill_paths()
        super().showEvent(e)

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if self.running:
            self.main.show_message(f"Export of {self._target} goes on in the background")
        super().closeEvent(e)

    def _default_folder(self) -> Path:
        folder = str(self.main.settings.get("export/folder") or "")
        if folder and Path(folder).is_dir():
            return Path(folder)
        doc_path = self.main.document.path
        if doc_path is not None and doc_path.parent.is_dir():
            return doc_path.parent
        return Path.home()

    def _fill_paths(self) -> None:
        folder = self._default_folder()
        name = _safe_name(self.main.document.name)
        self.path_edit.setText(str(folder / (name + FORMATS[self.format].extensions[0])))
        self.folder_edit.setText(str(folder / f"{name} tracks"))

    def _user_edited_path(self, *_a) -> None:
        self._auto_path = False

    def _project_changed(self, project: Project) -> None:
        if project.sample_rate != self._shown_rate:
            self._format_changed()  # the "Project rate" entry names the rate
        self._update_range_label()

    def _update_ranges(self, *_a) -> None:
        st = self.main.state
        model = self.range_combo.model()
        avail = {"all": True, "selection": st.has_range, "loop": st.loop is not None}
        for i, (key, _label) in enumerate(RANGES):
            model.item(i).setEnabled(avail[key])
        if not avail[self.range_combo.currentData()]:
            self.range_combo.setCurrentIndex(0)
        self._update_range_label()

    def _update_range_label(self, *_a) -> None:
        a, b = self.export_range()
        rate = self.project.sample_rate
        self.range_label.setText(f"{format_hms(a, rate)} – {format_hms(b, rate)} ({format_hms(max(0, b - a), rate)})")

    # -- format options ------------------------------------------------------------------------------
    def _format_changed(self, *_a) -> None:
        spec = FORMATS[self.format]
        prev_bits = self.bits_combo.currentData()
        self.bits_combo.blockSignals(True)
        self.bits_combo.clear()
        if spec.lossy:
            self.bits_combo.addItem("(set by the codec)", None)
        else:
            for bits in spec.depths:
                self.bits_combo.addItem(_depth_label(bits), bits)
            i = self.bits_combo.findData(prev_bits if prev_bits in spec.depths else spec.default_bits)
            self.bits_combo.setCurrentIndex(max(0, i))
        self.bits_combo.blockSignals(False)

        prev_rate = self.rate_combo.currentData()
        project_rate = self._shown_rate = self.project.sample_rate
        self.rate_combo.blockSignals(True)
        self.rate_combo.clear()
        has_project = spec.rates is None or project_rate in spec.rates
        if has_project:
            self.rate_combo.addItem(f"Project rate ({project_rate} Hz)", None)
        for r in spec.rates or RATES:
            if not (has_project and r == project_rate):
                self.rate_combo.addItem(f"{r} Hz", r)
        i = self.rate_combo.findData(prev_rate)
        if i < 0 and spec.rates is not None:
            i = self.rate_combo.findData(48000)
        self.rate_combo.setCurrentIndex(max(0, i))
        self.rate_combo.blockSignals(False)

        # Keep the file name's extension in step with the format.
        text = self.path_edit.text().strip()
        if text:
            p = Path(text)
            known = {e for s in FORMATS.values() for e in s.extensions}
            if p.suffix.lower() not in spec.extensions:
                p = p.with_suffix(spec.extensions[0]) if p.suffix.lower() in known or not p.suffix \
                    else p.with_name(p.name + spec.extensions[0])
                self.path_edit.setText(str(p))
        self.tags_note.setText("AIFF stores title, artist and comment natively; the others go in an ID3 chunk."
                               if spec.name == "aiff" else f"Written as {self._tag_kind(spec.name)}.")
        self._rate_changed()

    @staticmethod
    def _tag_kind(fmt: str) -> str:
        return {"wav": "RIFF INFO tags", "mp3": "ID3v2.4 tags"}.get(fmt, "Vorbis comments")

    def _out_rate(self) -> int:
        return int(self.rate_combo.currentData() or self.project.sample_rate)

    def _rate_changed(self, *_a) -> None:
        prev = self.bitrate_combo.currentData() or 192
        self.bitrate_combo.blockSignals(True)
        self.bitrate_combo.clear()
        if self.format == "mp3":
            rates = mp3_bitrates(self._out_rate())
            for b in rates:
                self.bitrate_combo.addItem(f"{b} kbit/s", b)
            best = min(rates, key=lambda b: abs(b - prev))
            self.bitrate_combo.setCurrentIndex(self.bitrate_combo.findData(best))
        self.bitrate_combo.blockSignals(False)
        self._update_enabled()

    def _update_enabled(self, *_a) -> None:
        spec = FORMATS[self.format]
        f = self.format_form
        f.setRowVisible(self.bitrate_combo, self.format == "mp3")
        self.bits_combo.setEnabled(not spec.lossy)
        integer = self.format == "mp3" or (not spec.lossy and self.bits_combo.currentData() != "float")
        self.dither_check.setEnabled(integer)
        mode = self.norm_combo.currentData()
        lf = self.loud_form
        lf.setRowVisible(self.preset_combo, mode == "lufs")
        lf.setRowVisible(self.lufs_spin, mode == "lufs")
        lf.setRowVisible(self.tp_spin, mode == "lufs")
        lf.setRowVisible(self.peak_spin, mode == "peak")
        stems = self.stems_radio.isChecked()
        self.path_edit.setVisible(not stems)
        self.folder_edit.setVisible(stems)
        self.path_caption.setText("Folder:" if stems else "File:")
        self.export_btn.setEnabled(not self.running)

    def _preset_chosen(self, *_a) -> None:
        data = self.preset_combo.currentData()
        if data is None:
            return
        lufs, tp = data
        for spin, v in ((self.lufs_spin, lufs), (self.tp_spin, tp)):
            spin.blockSignals(True)
            spin.setValue(v)
            spin.blockSignals(False)

    def _match_preset(self, *_a) -> None:
        key = (self.lufs_spin.value(), self.tp_spin.value())
        i = next((k for k, p in enumerate(PRESETS) if (p[1], p[2]) == key), len(PRESETS))
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(i)
        self.preset_combo.blockSignals(False)

    def set_preset(self, label_start: str) -> None:
        """Choose loudness normalisation with the preset whose label starts with ``label_start``."""
        self.norm_combo.setCurrentIndex(self.norm_combo.findData("lufs"))
        for i in range(self.preset_combo.count()):
            if self.preset_combo.itemText(i).startswith(label_start):
                self.preset_combo.setCurrentIndex(i)
                return
        raise KeyError(label_start)

    # -- browsing ---------------------------------------------------------------------------------------
    def browse(self) -> None:
        if self.stems_radio.isChecked():
            folder = QFileDialog.getExistingDirectory(self, "Folder for the track files", self.folder_edit.text())
            if folder:
                self.folder_edit.setText(folder)
                self._auto_path = False
            return
        spec = FORMATS[self.format]
        patterns = " ".join(f"*{e}" for e in spec.extensions)
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), f"{spec.title} ({patterns})",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path_edit.setText(path)
            self._auto_path = False
            self._format_changed()  # adds the extension if missing

    # -- exporting ------------------------------------------------------------------------------------------
    def _fail_now(self, text: str) -> None:
        self.status.setStyleSheet("color: #e04040;")
        self.status.setText(text)

    def _ask_replace(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Replace?", text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def start_export(self) -> Job | None:
        """Check the settings, ask before replacing files, and start the export job."""
        if self.running:
            return None
        project = self.project
        settings = self.settings()
        try:
            plan_export(settings, project.sample_rate)
        except SeedwaveError as exc:
            self._fail_now(str(exc))
            return None
        start, stop = self.export_range()
        if stop <= start:
            self._fail_now("Nothing to export: the project or the range is empty.")
            return None
        if not audible_tracks(project):
            self._fail_now("Nothing to export: no track is audible (check mute and solo).")
            return None
        ext = FORMATS[settings.format].extensions[0]
        if self.stems_radio.isChecked():
            text = self.folder_edit.text().strip()
            if not text:
                self._fail_now("Choose a folder for the track files.")
                return None
            folder = Path(text).expanduser()
            paths = [folder / stem_file_name(i + 1, t, ext) for i, t in enumerate(audible_tracks(project))]
            existing = [p for p in paths if p.exists()]
            if existing:
                names = "\n".join(p.name for p in existing[:8]) + ("\n…" if len(existing) > 8 else "")
                if not self._ask_replace(f"These files already exist in {folder}:\n{names}\n\nReplace them?"):
                    self._fail_now("Not exported: the existing files were kept.")
                    return None
            overwrite = bool(existing)
            target, remember = folder, folder.parent

            def work(ctx: TaskContext) -> list[Path]:
                return export_stems(project, folder, settings, start, stop, ctx, overwrite=overwrite)
        else:
            text = self.path_edit.text().strip()
            if not text:
                self._fail_now("Choose a file to export to.")
                return None
            path = Path(text).expanduser()
            if path.suffix.lower() not in FORMATS[settings.format].extensions:
                path = path.with_name(path.name + ext)
                self.path_edit.setText(str(path))
            existed = path.exists()
            if existed and not self._ask_replace(f"{path.name} already exists in {path.parent}.\n\nReplace it?"):
                self._fail_now(f"Not exported: {path.name} was kept.")
                return None
            target, remember = path, path.parent

            def work(ctx: TaskContext) -> ExportReport:
                return export_mix(project, path, settings, start, stop, ctx, overwrite=existed)

        self.main.settings.set("export/format", settings.format)
        if remember.is_dir():
            self.main.settings.set("export/folder", str(remember))
        self._target = target.name
        job = Job(f"Export {target.name}", work, kind="export")
        job.progressed.connect(self._progressed)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        self.job = job
        self.status.setStyleSheet("")
        self.status.setText(f"Exporting {target.name}…")
        self.progress.setValue(0)
        self.export_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.main.jobs.submit(job)
        return job

    def cancel_export(self) -> None:
        if self.running:
            self.job.cancel()
            self.status.setText("Cancelling…")

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        pct = int(math.floor(fraction * 100))
        self.status.setText(f"{message or 'Exporting'} {self._target}: {pct}%")
        self.main.statusBar().showMessage(f"Export {self._target}: {message or 'exporting'} {pct}%", 3000)

    def _ended(self) -> None:
        self.export_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)

    def _finished(self, result: object) -> None:
        self._ended()
        self.progress.setValue(1000)
        if isinstance(result, ExportReport):
            text = result.summary()
            text = text[0].upper() + text[1:]
        else:
            paths = list(result)  # type: ignore[call-overload]
            folder = paths[0].parent if paths else ""
            text = f"Wrote {len(paths)} track file{'s' if len(paths) != 1 else ''} to {folder}"
        warnings = self.job.ctx.warnings if self.job is not None else []
        if warnings:
            text += "\n" + "\n".join(warnings)
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.main.show_message(text.splitlines()[0])
        self.export_finished.emit(result)

    def _failed(self, message: str) -> None:
        self._ended()
        self._fail_now(f"Export failed: {message}")
        self.main.show_error(f"Export of {self._target} failed: {message}")
        self.export_failed.emit(message)

    def _cancelled(self) -> None:
        self._ended()
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("Export cancelled; nothing was written.")
        self.main.show_message(f"Export of {self._target} cancelled")
        self.export_cancelled.emit()


__all__ = ["FORMAT_ORDER", "PRESETS", "ExportDialog"]
