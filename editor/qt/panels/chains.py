"""Chains panel: build an effect chain, save and load it, apply it, batch it.

The chain being built is a :class:`~editor.effects.chainfile.ChainSpec`: an
ordered list of steps (effects by id with their parameters, bypass and wet
mix), a name and the output format a batch run writes. Steps come from the
effect panel ("Add to Chain", with the form's current values), from a saved
chain or a track's inserts; the step list reorders with buttons or Ctrl+Up /
Ctrl+Down, Delete removes, the check box bypasses, and the selected step's
parameters are edited in the same form the effect panel uses.

"Apply Chain" runs the whole chain on the selection, the selected clips or whole
tracks as one background job and one undo step (the history entry keeps every
step's provenance). "Batch…" opens File > Batch… with this chain.

Applying and previewing live in :mod:`.chain_run`; the dock, File > Batch…
and the track-insert actions in :mod:`.chain_actions`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.chain import ChainStep
from ...core.errors import SeedwaveError
from ...effects.chainfile import (
    LOUDNESS,
    OUTPUT_FORMATS,
    SUFFIX,
    ChainSpec,
    effect_for,
    list_saved_chains,
    load_chain,
    save_chain,
    save_user_chain,
)
from ...host.widgets.param_form import ParamForm
from ...jobs.runner import Job
from .chain_run import ChainRunning
from .effects import SCOPE_ITEMS, SCOPE_TIP

CHAIN_FILTER = f"Seedwave chains (*{SUFFIX});;All files (*)"
BITS_ITEMS = (("Bit depth as input", None), ("16-bit", 16), ("24-bit", 24), ("32-bit", 32), ("32-bit float", "float"))
RATE_ITEMS = (("Rate as input", None), ("44100 Hz", 44100), ("48000 Hz", 48000), ("88200 Hz", 88200),
              ("96000 Hz", 96000))


class ChainPanel(ChainRunning, QWidget):
    """The dock's content: the chain being built, its step editor, output, save/load, apply."""

    chain_changed = Signal()

    def __init__(self, window, parent: QWidget | None = None) -> None:  # noqa: ANN001 - MainWindow
        super().__init__(parent)
        self.w = window
        self.spec = ChainSpec()
        self.path: Path | None = None  # the file the chain was opened from or saved to
        self.dirty = False
        self.job: Job | None = None
        self.form: ParamForm | None = None
        self._loading = False
        self.setAccessibleName("Chains")
        # Everything sits in a scroll area: when the dock is short (several panels in the
        # column) it scrolls instead of cutting off the buttons at the bottom.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 2, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        scroll.setWidget(content)
        outer.addWidget(scroll)
        self.setMinimumWidth(320)
        lay = QVBoxLayout(content)
        lay.setContentsMargins(2, 2, 2, 2)

        # -- file row ------------------------------------------------------------------------------
        nrow = QHBoxLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Chain name")
        self.name_edit.setAccessibleName("Chain name")
        self.name_edit.textEdited.connect(self._renamed)
        name_label = QLabel("&Name:")
        name_label.setBuddy(self.name_edit)
        nrow.addWidget(name_label)
        nrow.addWidget(self.name_edit, 1)
        lay.addLayout(nrow)
        frow = QHBoxLayout()
        self.new_button = self._tool("New", "New chain", "Start an empty chain", self.new_chain)
        self.open_button = self._tool("Open…", "Open chain file", "Open a chain file", lambda: self.open_file())
        self.save_button = self._tool("Save", "Save chain",
                                      "Save the chain (to its file, or to the saved chains)", lambda: self.save())
        self.save_as_button = self._tool("Save As", "Save chain as", "Save under a new name or to a file", None)
        save_menu = QMenu(self.save_as_button)
        save_menu.addAction("To &Saved Chains…", self.save_as_dialog)
        save_menu.addAction("To a &File…", self.save_file_dialog)
        self.save_as_button.setMenu(save_menu)
        self.save_as_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        for b in (self.new_button, self.open_button, self.save_button, self.save_as_button):
            frow.addWidget(b)
        frow.addStretch(1)
        lay.addLayout(frow)

        split = QSplitter(Qt.Orientation.Vertical)
        lay.addWidget(split, 1)

        # -- saved chains ------------------------------------------------------------------------------
        saved_box = QGroupBox("Saved chains")
        sl = QVBoxLayout(saved_box)
        sl.setContentsMargins(4, 4, 4, 4)
        self.saved = QListWidget()
        self.saved.setAccessibleName("Saved chains")
        self.saved.setToolTip("Double-click or press Enter to load a saved chain")
        self.saved.itemActivated.connect(lambda item: self.load_saved(item.data(Qt.ItemDataRole.UserRole)))
        self.saved.setMinimumHeight(40)
        sl.addWidget(self.saved)
        split.addWidget(saved_box)

        # -- steps ---------------------------------------------------------------------------------------
        steps_box = QGroupBox("Steps")
        stl = QVBoxLayout(steps_box)
        stl.setContentsMargins(4, 4, 4, 4)
        self.steps = QListWidget()
        self.steps.setAccessibleName("Chain steps")
        self.steps.setToolTip("Checked steps run; Ctrl+Up / Ctrl+Down move the selected step, Delete removes it")
        self.steps.currentRowChanged.connect(self._step_picked)
        self.steps.itemChanged.connect(self._item_checked)
        self.steps.setMinimumHeight(60)
        stl.addWidget(self.steps, 1)
        brow = QHBoxLayout()
        self.up_button = self._tool("Up", "Move step up", "Move the selected step up (Ctrl+Up)",
                                    lambda: self.move_selected(-1))
        self.down_button = self._tool("Down", "Move step down", "Move the selected step down (Ctrl+Down)",
                                      lambda: self.move_selected(1))
        self.remove_button = self._tool("Remove", "Remove step", "Remove the selected step (Delete)",
                                        self.remove_selected)
        self.loudness_button = self._tool("+ Loudness", "Add loudness step",
                                          "Add a loudness normalisation step (LUFS target, true-peak ceiling)",
                                          self.add_loudness)
        for b in (self.up_button, self.down_button, self.remove_button):
            brow.addWidget(b)
        brow.addStretch(1)
        brow.addWidget(self.loudness_button)
        stl.addLayout(brow)
        for keys, fn in (("Ctrl+Up", lambda: self.move_selected(-1)), ("Ctrl+Down", lambda: self.move_selected(1)),
                         (QKeySequence.StandardKey.Delete, self.remove_selected)):
            sc = QShortcut(QKeySequence(keys), self.steps)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(fn)
        split.addWidget(steps_box)

        # -- the selected step ----------------------------------------------------------------------------
        step_box = QGroupBox("Selected step")
        sbl = QVBoxLayout(step_box)
        sbl.setContentsMargins(4, 4, 4, 4)
        self.step_title = QLabel("No step selected")
        self.step_title.setStyleSheet("font-weight: bold;")
        self.step_title.setAccessibleName("Selected step")
        sbl.addWidget(self.step_title)
        wrow = QHBoxLayout()
        self.bypass = QCheckBox("Bypass")
        self.bypass.setAccessibleName("Bypass step")
        self.bypass.toggled.connect(self._bypass_toggled)
        self.wet = QDoubleSpinBox()
        self.wet.setRange(0.0, 100.0)
        self.wet.setDecimals(0)
        self.wet.setSuffix(" % wet")
        self.wet.setAccessibleName("Wet mix")
        self.wet.setToolTip("How much of the effect is heard: 0 % = dry only, 100 % = effect only")
        self.wet.valueChanged.connect(self._wet_changed)
        wrow.addWidget(self.bypass)
        wrow.addWidget(self.wet)
        wrow.addStretch(1)
        sbl.addLayout(wrow)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QScrollArea.Shape.NoFrame)
        sbl.addWidget(self.form_area, 1)
        split.addWidget(step_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 4)
        split.setSizes([70, 140, 320])

        # -- output -----------------------------------------------------------------------------------------
        out_box = QGroupBox("Output of a batch run")
        ol = QHBoxLayout(out_box)
        ol.setContentsMargins(4, 4, 4, 4)
        self.out_format = QComboBox()
        self.out_format.setAccessibleName("Output format")
        self.out_format.addItem("Format as input", None)
        for f in OUTPUT_FORMATS:
            self.out_format.addItem(f.upper(), f)
        self.out_bits = QComboBox()
        self.out_bits.setAccessibleName("Output bit depth")
        for text, v in BITS_ITEMS:
            self.out_bits.addItem(text, v)
        self.out_rate = QComboBox()
        self.out_rate.setAccessibleName("Output sample rate")
        for text, v in RATE_ITEMS:
            self.out_rate.addItem(text, v)
        for combo in (self.out_format, self.out_bits, self.out_rate):
            combo.activated.connect(self._output_changed)
        self.out_format.setToolTip("Format of the files a batch run writes")
        self.out_bits.setToolTip("Bit depth of the files a batch run writes (lossy formats have none)")
        self.out_rate.setToolTip("Sample rate of the files a batch run writes")
        for combo in (self.out_format, self.out_bits, self.out_rate):
            ol.addWidget(combo, 1)
        lay.addWidget(out_box)

        # -- apply ----------------------------------------------------------------------------------------------
        arow = QHBoxLayout()
        self.scope = QComboBox()
        self.scope.setAccessibleName("Apply chain to")
        self.scope.setToolTip(SCOPE_TIP)
        for text, key in SCOPE_ITEMS:
            self.scope.addItem(text, key)
        arow.addWidget(QLabel("Apply to:"))
        arow.addWidget(self.scope, 1)
        self.batch_button = QPushButton("Batch…")
        self.batch_button.setAccessibleName("Batch process with this chain")
        self.batch_button.setToolTip("Run this chain over many files (File > Batch…)")
        self.batch_button.clicked.connect(self._open_batch)
        arow.addWidget(self.batch_button)
        outer.addLayout(arow)
        crow = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Chain status")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel chain")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button = QPushButton("Apply Chain")
        self.apply_button.setAccessibleName("Apply chain")
        self.apply_button.setToolTip("Run every step on the chosen audio: one undo step")
        self.apply_button.clicked.connect(lambda: self.apply())
        self.preview_button = QPushButton("Preview")
        self.preview_button.setAccessibleName("Preview chain")
        self.preview_button.setToolTip("Process a few seconds of the selection (or around the cursor) "
                                       "with the whole chain and play them in a loop")
        self.preview_button.clicked.connect(self.toggle_preview)
        crow.addWidget(self.status, 1)
        crow.addWidget(self.preview_button)
        crow.addWidget(self.cancel_button)
        crow.addWidget(self.apply_button)
        outer.addLayout(crow)  # below the scroll area: always in sight

        self.preview_job: Job | None = None
        self.w.audition.state_changed.connect(self._preview_state)  # "Stop Preview" reverts when playback ends
        self.refresh_saved()
        self._show()

    def _tool(self, text: str, name: str, tip: str, fn: Any) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setAccessibleName(name)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        if fn is not None:
            b.clicked.connect(fn)
        return b

    # -- the chain ----------------------------------------------------------------------------------------
    def set_spec(self, spec: ChainSpec, path: Path | None = None, dirty: bool = False) -> None:
        row = self.steps.currentRow()
        self.spec = spec
        self.path = path
        self.dirty = dirty
        self._show(row)
        self.chain_changed.emit()

    def _changed(self, spec: ChainSpec, row: int | None = None) -> None:
        """An edit of the chain (not of the document: the chain is not part of the project)."""
        self.spec = spec
        self.dirty = True
        self._show(self.steps.currentRow() if row is None else row)
        self.chain_changed.emit()

    def _step_text(self, i: int, step: ChainStep) -> str:
        try:
            title = effect_for(step.effect_id).title
        except SeedwaveError:
            title = f"{step.effect_id} (not installed)"
        text = f"{i + 1}. {title}"
        if step.wet < 1.0:
            text += f" · {step.wet * 100:.0f} % wet"
        return text

    def _show(self, row: int = -1) -> None:
        self._loading = True
        try:
            self.name_edit.setText(self.spec.name)
            self.steps.clear()
            for i, step in enumerate(self.spec.chain.steps):
                item = QListWidgetItem(self._step_text(i, step))
                item.setData(Qt.ItemDataRole.UserRole, step.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if step.bypass else Qt.CheckState.Checked)
                item.setToolTip(", ".join(f"{k}={v}" for k, v in step.params) or "default parameters")
                self.steps.addItem(item)
            out = self.spec.output
            for combo, v in ((self.out_format, out.format), (self.out_bits, out.bits),
                             (self.out_rate, out.sample_rate)):
                i = combo.findData(v)
                if i < 0 and v is not None:
                    combo.addItem(str(v), v)
                    i = combo.count() - 1
                combo.setCurrentIndex(max(0, i))
        finally:
            self._loading = False
        n = len(self.spec.chain)
        if n:
            self.steps.setCurrentRow(max(0, min(row, n - 1)) if row >= 0 else 0)
        else:
            self._step_picked(-1)
        self.apply_button.setEnabled(n > 0 and not self._running())
        self.save_button.setEnabled(n > 0)
        self.save_as_button.setEnabled(n > 0)
        where = f" — {self.path.name}" if self.path is not None else ""
        self.status.setText(f"{n} step{'s' if n != 1 else ''}{where}{' (not saved)' if self.dirty and n else ''}"
                            if not self._running() else self.status.text())

    def selected_step(self) -> ChainStep | None:
        row = self.steps.currentRow()
        steps = self.spec.chain.steps
        return steps[row] if 0 <= row < len(steps) else None

    def add_step(self, effect_id: str, values: dict[str, Any] | None = None) -> ChainStep:
        """Append ``effect_id`` with ``values`` (what the effect panel's "Add to Chain" does)."""
        step = ChainStep.make(effect_id, values or {})
        self._changed(replace(self.spec, chain=self.spec.chain.added(step)), len(self.spec.chain))
        self.w.show_message(f"Added {self._step_text(len(self.spec.chain) - 1, step).split('. ', 1)[1]} "
                            f"to the chain ({len(self.spec.chain)} steps)")
        return step

    def add_loudness(self) -> None:
        self.add_step(LOUDNESS, {p.name: p.default for p in effect_for(LOUDNESS).params})

    def move_selected(self, delta: int) -> None:
        step = self.selected_step()
        if step is None:
            return
        to = self.steps.currentRow() + delta
        if not 0 <= to < len(self.spec.chain):
            return
        self._changed(replace(self.spec, chain=self.spec.chain.moved(step.id, to)), to)
        self.steps.setFocus()

    def remove_selected(self) -> None:
        step = self.selected_step()
        if step is None:
            return
        self._changed(replace(self.spec, chain=self.spec.chain.removed(step.id)))

    def _replace_step(self, step: ChainStep) -> None:
        self.spec = replace(self.spec, chain=self.spec.chain.replaced(step))
        self.dirty = True
        row = self.steps.currentRow()
        item = self.steps.item(row)
        if item is not None:
            self._loading = True
            item.setText(self._step_text(row, step))
            item.setCheckState(Qt.CheckState.Unchecked if step.bypass else Qt.CheckState.Checked)
            item.setToolTip(", ".join(f"{k}={v}" for k, v in step.params) or "default parameters")
            self._loading = False
        self.chain_changed.emit()

    def _step_picked(self, row: int) -> None:
        step = self.selected_step() if row >= 0 else None
        for wdg in (self.bypass, self.wet, self.up_button, self.down_button, self.remove_button):
            wdg.setEnabled(step is not None)
        if step is None:
            self.step_title.setText("No step selected" if self.spec.chain else
                                    "Empty chain: use “Add to Chain” in the effect panel")
            self.form = None
            self.form_area.setWidget(QLabel(""))
            return
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(row < len(self.spec.chain) - 1)
        self._loading = True
        try:
            self.bypass.setChecked(step.bypass)
            self.wet.setValue(step.wet * 100.0)
        finally:
            self._loading = False
        try:
            effect = effect_for(step.effect_id)
        except SeedwaveError as exc:
            self.step_title.setText(str(exc))
            self.form = None
            self.form_area.setWidget(QLabel(""))
            return
        self.step_title.setText(effect.title)
        form = ParamForm(effect.params)
        form.set_values(step.param_dict)
        form.changed.connect(self._form_changed)
        self.form = form
        self.form_area.setWidget(form)

    def _form_changed(self) -> None:
        step = self.selected_step()
        if step is None or self.form is None:
            return
        self._replace_step(step.with_(params=self.form.values()))

    def _bypass_toggled(self, on: bool) -> None:
        step = self.selected_step()
        if step is not None and not self._loading and step.bypass != on:
            self._replace_step(step.with_(bypass=on))

    def _item_checked(self, item: QListWidgetItem) -> None:
        if self._loading:
            return
        row = self.steps.row(item)
        steps = self.spec.chain.steps
        if not 0 <= row < len(steps):
            return
        bypass = item.checkState() != Qt.CheckState.Checked
        if steps[row].bypass != bypass:
            if row != self.steps.currentRow():
                self.steps.setCurrentRow(row)
            self._replace_step(steps[row].with_(bypass=bypass))
            self._loading = True
            self.bypass.setChecked(bypass)
            self._loading = False

    def _wet_changed(self, value: float) -> None:
        step = self.selected_step()
        if step is not None and not self._loading and abs(step.wet - value / 100.0) > 1e-9:
            self._replace_step(step.with_(wet=value / 100.0))

    def _renamed(self, text: str) -> None:
        self.spec = replace(self.spec, name=text.strip())
        self.dirty = True
        self.chain_changed.emit()

    def _output_changed(self, *_a: Any) -> None:
        if self._loading:
            return
        fmt, bits, rate = self.out_format.currentData(), self.out_bits.currentData(), self.out_rate.currentData()
        try:
            self.spec = self.spec.with_output(format=fmt, bits=bits, sample_rate=rate)
        except ValueError as exc:
            self.w.show_error(str(exc))
            return
        self.dirty = True
        self.chain_changed.emit()

    # -- files ------------------------------------------------------------------------------------------------
    def may_discard(self) -> bool:
        """True if the chain has no unsaved changes, or the user agrees to lose them."""
        if not (self.dirty and self.spec.chain):
            return True
        answer = QMessageBox.question(self, "Chains", f"Discard the changes to the chain “{self.spec.title}”?")
        return answer == QMessageBox.StandardButton.Yes

    def new_chain(self) -> None:
        if self.may_discard():
            self.set_spec(ChainSpec())

    def open_file(self, path: str | Path | None = None) -> bool:
        if not self.may_discard():
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open chain", str(self.path or ""), CHAIN_FILTER)
            if not path:
                return False
        try:
            spec = load_chain(path)
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return False
        self.set_spec(spec, Path(path))
        self.w.show_message(f"Opened chain “{spec.title}”")
        return True

    def load_saved(self, name_or_path: str | Path) -> bool:
        """Load a saved chain by its name (or path in the chains folder)."""
        if not self.may_discard():
            return False
        for path, spec in list_saved_chains():
            if Path(name_or_path) == path or str(name_or_path) in (path.stem, getattr(spec, "name", None)):
                if isinstance(spec, SeedwaveError):
                    self.w.show_error(str(spec))
                    return False
                self.set_spec(spec, path)
                self.w.show_message(f"Loaded chain “{spec.title}”")
                return True
        self.w.show_error(f"There is no saved chain called {name_or_path!s}")
        return False

    def refresh_saved(self) -> None:
        self.saved.clear()
        for path, spec in list_saved_chains():
            if isinstance(spec, SeedwaveError):
                item = QListWidgetItem(f"⚠ {path.stem}")
                item.setToolTip(str(spec))
            else:
                n = len(spec.chain)
                item = QListWidgetItem(spec.name or path.stem)
                item.setToolTip(f"{n} step{'s' if n != 1 else ''}: "
                                + " → ".join(s.effect_id for s in spec.chain.steps) + f"\n{path}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.saved.addItem(item)

    def save(self) -> Path | None:
        """Save to the file the chain came from, else to the saved chains under its name."""
        if self.path is not None:
            return self.save_to_file(self.path)
        if not self.spec.name:
            return self.save_as_dialog()
        return self.save_as_saved(self.spec.name)

    def save_as_saved(self, name: str) -> Path | None:
        try:
            path = save_user_chain(self.spec, name)
        except (SeedwaveError, OSError) as exc:
            self.w.show_error(f"Cannot save the chain: {exc}")
            return None
        self.set_spec(replace(self.spec, name=name.strip()), path)
        self.refresh_saved()
        self.w.show_message(f"Saved chain “{name.strip()}” ({path})")
        return path

    def save_to_file(self, path: str | Path) -> Path | None:
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        spec = self.spec if self.spec.name else replace(self.spec, name=path.stem)
        try:
            saved = save_chain(spec, path)
        except (SeedwaveError, OSError) as exc:
            self.w.show_error(f"Cannot save the chain: {exc}")
            return None
        self.set_spec(spec, saved)
        self.refresh_saved()
        self.w.show_message(f"Saved chain to {saved}")
        return saved

    def save_as_dialog(self) -> Path | None:
        name, ok = QInputDialog.getText(self, "Save chain", "Name of the saved chain:", text=self.spec.name)
        if ok and name.strip():
            return self.save_as_saved(name)
        return None

    def save_file_dialog(self) -> Path | None:
        start = str(self.path or Path.home() / f"{self.spec.name or 'chain'}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save chain to a file", start, CHAIN_FILTER)
        return self.save_to_file(path) if path else None

    def _open_batch(self) -> None:
        from .chain_actions import open_batch_dialog

        open_batch_dialog(self.w, use_current=True)
