"""Effect panel: find an effect, set its parameters, preview with A/B, apply.

The list shows every effect the registry found (built-in and plugins, searchable
by title, id, category and description). The form is built from the chosen
effect's parameter schema; presets are stored per effect
(:mod:`editor.effects.presets`). Preview processes a few seconds in the
background and plays them; while it plays, Original / Processed / Removed switch
what is heard at the playhead. Apply runs the effect on the selection, the
selected clips or whole tracks, in place (one undo step) or into new tracks.

``install(window)`` adds this panel, the jobs panel, the Effects menu and the
context-menu entries (the main window calls it, see ``MainWindow._install_parts``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
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

from ...core.errors import SeedwaveError
from ...effects.base import Effect
from ...host.widgets.ab_row import add_variant_buttons
from ...host.widgets.form_extras import FormExtras, add_form_extras, selected_audio
from ...host.widgets.param_form import ParamForm
from ...jobs.runner import Job
from ..effect_apply import EffectController

SCOPE_ITEMS = (("Auto", "auto"), ("Selection", "selection"), ("Selected clips", "clips"), ("Whole tracks", "tracks"),
               ("Inside the spectral selection", "spectral"))  # spectral_ops.py runs it in the drawn region
SCOPE_TIP = ("What the effect works on. Auto: the selection if there is one, else the selected clips, "
             "else the selected tracks (or all tracks)")
MODE_ITEMS = (("In place", "in_place"), ("New track", "new_track"))
MODE_TIP = "In place: replace the audio (one undo step). New track: put the result on a new track below"
NO_PRESET = "(presets)"


class EffectPanel(QWidget):
    """The dock's content. ``controller`` runs the effects; the panel only collects choices."""

    effect_selected = Signal(str)
    add_to_chain = Signal(str, dict)  # effect id, the form's values: the chain panel appends them

    def __init__(self, controller: EffectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.c = controller
        self.w = controller.w
        self.effect: Effect | None = None
        self.form: ParamForm | None = None
        self.form_extras: FormExtras | None = None
        self.job: Job | None = None
        self.setAccessibleName("Effects")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        lay.addWidget(split, 1)

        # -- the list ---------------------------------------------------------------------------
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search effects…")
        self.search.setAccessibleName("Search effects")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.list = QListWidget()
        self.list.setAccessibleName("Effect list")
        self.list.currentItemChanged.connect(self._picked)
        self.plugin_errors = QLabel()
        self.plugin_errors.setWordWrap(True)
        self.plugin_errors.setStyleSheet("color: #c77d00;")
        self.plugin_errors.setAccessibleName("Plugin errors")
        tl.addWidget(self.search)
        tl.addWidget(self.list, 1)
        tl.addWidget(self.plugin_errors)
        split.addWidget(top)

        # -- the chosen effect ------------------------------------------------------------------
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setAccessibleName("Effect description")
        bl.addWidget(self.heading)
        bl.addWidget(self.about)

        mrow = QHBoxLayout()
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.model_note.setAccessibleName("Model status")
        self.models_button = QPushButton("Models…")
        self.models_button.setAccessibleName("Open the model manager")
        self.models_button.clicked.connect(lambda: open_models_dialog(self.w))
        mrow.addWidget(self.model_note, 1)
        mrow.addWidget(self.models_button)
        bl.addLayout(mrow)

        prow = QHBoxLayout()
        self.presets = QComboBox()
        self.presets.setAccessibleName("Presets")
        self.presets.setToolTip("Load a saved parameter set")
        self.presets.activated.connect(self._preset_chosen)
        self.save_preset = QToolButton()
        self.save_preset.setText("Save…")
        self.save_preset.setAccessibleName("Save preset")
        self.save_preset.setToolTip("Save these parameters as a preset")
        self.save_preset.clicked.connect(self.save_preset_dialog)
        self.delete_preset = QToolButton()
        self.delete_preset.setText("Delete")
        self.delete_preset.setAccessibleName("Delete preset")
        self.delete_preset.clicked.connect(self.delete_current_preset)
        self.reset = QToolButton()
        self.reset.setText("Reset")
        self.reset.setAccessibleName("Reset parameters")
        self.reset.setToolTip("Back to the default values")
        self.reset.clicked.connect(lambda: self.form and self.form.reset())
        for wdg in (self.presets, self.save_preset, self.delete_preset, self.reset):
            prow.addWidget(wdg, 1 if wdg is self.presets else 0)
        bl.addLayout(prow)

        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QScrollArea.Shape.NoFrame)
        bl.addWidget(self.form_area, 1)

        trow = QHBoxLayout()
        self.scope = QComboBox()
        self.scope.setAccessibleName("Apply to")
        self.scope.setToolTip(SCOPE_TIP)
        for text, key in SCOPE_ITEMS:
            self.scope.addItem(text, key)
        self.mode = QComboBox()
        self.mode.setAccessibleName("Output")
        self.mode.setToolTip(MODE_TIP)
        for text, key in MODE_ITEMS:
            self.mode.addItem(text, key)
        trow.addWidget(QLabel("Apply to:"))
        trow.addWidget(self.scope, 1)
        trow.addWidget(QLabel("Result:"))
        trow.addWidget(self.mode, 1)
        bl.addLayout(trow)

        vrow = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setAccessibleName("Preview")
        self.preview_button.setToolTip("Process a few seconds around the cursor (or of the selection) and play them")
        self.preview_button.clicked.connect(self.toggle_preview)
        vrow.addWidget(self.preview_button)
        self.variant_group, self.variant_buttons, self.ab_button = add_variant_buttons(
            self, vrow,
            (("original", "A: Original", "Hear the original while the preview plays"),
             ("processed", "B: Processed", "Hear the processed audio"),
             ("removed", "Removed", "Hear what the effect removes (original − processed)")),
            self.c.set_variant, self.c.toggle_ab, "Switch between original and processed (A/B)")
        self.preview_output = QComboBox()
        self.preview_output.setAccessibleName("Preview output")
        self.preview_output.setToolTip("Which output to preview")
        vrow.addWidget(self.preview_output)
        vrow.addStretch(1)
        bl.addLayout(vrow)

        arow = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Effect status")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setAccessibleName("Apply effect")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel effect")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.chain_button = QPushButton("Add to Chain")
        self.chain_button.setAccessibleName("Add to chain")
        self.chain_button.setToolTip("Append this effect, with these parameters, to the chain in the Chains panel")
        self.chain_button.clicked.connect(self.add_current_to_chain)
        arow.addWidget(self.status, 1)
        arow.addWidget(self.chain_button)
        arow.addWidget(self.cancel_button)
        arow.addWidget(self.apply_button)
        bl.addLayout(arow)
        split.addWidget(body)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)

        self.c.variant_changed.connect(self._variant_changed)
        self.c.run_finished.connect(self._run_finished)
        self.c.preview_ready.connect(self._preview_state)
        self.c.preview_finished.connect(self._preview_state)
        self.w.audition.state_changed.connect(self._preview_state)  # "Stop preview" reverts when playback ends
        self.populate()
        self._variant_changed(self.c.variant)

    # -- list --------------------------------------------------------------------------------------
    def populate(self) -> None:
        reg = self.c.registry
        self.list.clear()
        for cls in sorted(reg.classes(), key=lambda k: (k.category, k.title.casefold())):
            item = QListWidgetItem(f"{cls.title}")
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            item.setData(Qt.ItemDataRole.UserRole + 1,
                         f"{cls.title} {cls.id} {cls.category} {cls.description}".casefold())
            tip = f"{cls.category} · {cls.id} {cls.version}"
            if cls.description:
                tip += f"\n{cls.description}"
            item.setToolTip(tip)
            self.list.addItem(item)
        if reg.errors:
            names = ", ".join(sorted(reg.errors))
            self.plugin_errors.setText(f"⚠ {len(reg.errors)} plugin(s) failed to load: {names}")
            self.plugin_errors.setToolTip("\n".join(f"{k}: {v}" for k, v in sorted(reg.errors.items())))
        self.plugin_errors.setVisible(bool(reg.errors))
        self.filter(self.search.text())
        if self.effect is None and self.list.count():
            self.list.setCurrentRow(0)

    def filter(self, text: str) -> None:
        """Show the effects whose title, id, category or description contain every word."""
        words = text.casefold().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            hay = str(item.data(Qt.ItemDataRole.UserRole + 1))
            item.setHidden(not all(w in hay for w in words))

    def select_effect(self, effect_id: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == effect_id:
                item.setHidden(False)
                self.list.setCurrentItem(item)
                return
        raise KeyError(effect_id)

    def _picked(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None = None) -> None:
        if item is None:
            return
        try:
            effect = self.c.registry.get(item.data(Qt.ItemDataRole.UserRole))
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return
        self.c.stop_preview()
        self.effect = effect
        self.heading.setText(effect.title)
        self.about.setText(effect.description)
        self.about.setVisible(bool(effect.description))
        self.form = ParamForm(effect.params)
        self.form_extras = add_form_extras(self.form, effect, lambda: self.w.project.sample_rate,
                                           self._selected_audio, self.w.show_error)
        self.form.changed.connect(self._params_changed)
        self.form_area.setWidget(self.form)
        multi = bool(effect.outputs)
        self.mode.setEnabled(not multi)
        self.mode.setToolTip("Each output goes on its own new track" if multi else MODE_TIP)
        self.preview_output.clear()
        for name in effect.outputs:
            self.preview_output.addItem(name.capitalize(), name)
        self.preview_output.setVisible(multi)
        self.variant_buttons["removed"].setVisible(not multi)
        if multi and self.c.variant == "removed":
            self.c.set_variant("processed")
        self._fill_presets()
        self._params_changed()
        self.effect_selected.emit(effect.id)

    # -- parameters and presets -----------------------------------------------------------------------
    def _selected_audio(self) -> tuple:
        """The selected audio, for a parameter the effect fills from the selection."""
        sel = self.w.host.selection.current()
        return selected_audio(self.w.project, sel.start, sel.stop, sel.track_ids)

    def values(self) -> dict:
        return self.form.values() if self.form is not None else {}

    def set_values(self, values: dict) -> None:
        if self.form is not None:
            self.form.set_values(values)

    def _params_changed(self) -> None:
        self._update_model_note()

    def _update_model_note(self) -> None:
        effect = self.effect
        specs = ()
        if effect is not None:
            try:
                specs = tuple(effect.required_models(effect.resolve_params(self.values())))
            except SeedwaveError:
                specs = ()
        if not specs:
            self.model_note.setText("")
            self.models_button.setVisible(bool(effect and effect.models))
            return
        manager = self.c.models()
        missing = [s for s in specs if not manager.is_installed(s)]
        if missing:
            size = sum(s.size for s in missing)
            self.model_note.setText(f"⚠ Needs {', '.join(s.name for s in missing)}"
                                    f"{f' ({size / 1e6:.0f} MB)' if size else ''}: not installed")
            self.model_note.setStyleSheet("color: #c77d00;")
        else:
            self.model_note.setText(f"Model: {', '.join(s.name for s in specs)} (installed)")
            self.model_note.setStyleSheet("")
        self.models_button.show()

    def _fill_presets(self) -> None:
        self.presets.clear()
        self.presets.addItem(NO_PRESET, None)
        if self.effect is None:
            return
        try:
            names = self.c.presets.names(self.effect.id)
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            names = []
        for n in names:
            self.presets.addItem(n, n)
        self.delete_preset.setEnabled(bool(names))

    def _preset_chosen(self, index: int) -> None:
        name = self.presets.itemData(index)
        if name:
            self.load_preset(name)

    def load_preset(self, name: str) -> None:
        if self.effect is None:
            return
        try:
            values, notes = self.c.presets.load(type(self.effect), name)
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return
        self.set_values(values)
        self.presets.setCurrentIndex(max(0, self.presets.findData(name)))
        self.w.show_message("; ".join(notes) if notes else f"Loaded preset “{name}”")

    def save_preset_as(self, name: str) -> bool:
        if self.effect is None:
            return False
        try:
            self.c.presets.save(type(self.effect), name, self.values())
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return False
        self._fill_presets()
        self.presets.setCurrentIndex(max(0, self.presets.findData(name.strip())))
        self.w.show_message(f"Saved preset “{name.strip()}”")
        return True

    def save_preset_dialog(self) -> None:
        current = self.presets.currentData() or ""
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:", text=current)
        if ok and name.strip():
            self.save_preset_as(name)

    def delete_current_preset(self) -> None:
        name = self.presets.currentData()
        if not name or self.effect is None:
            self.w.show_message("Choose a preset to delete first")
            return
        answer = QMessageBox.question(self, "Delete preset", f"Delete the preset “{name}”?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.c.presets.delete(type(self.effect), name)
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
        self._fill_presets()

    # -- running ----------------------------------------------------------------------------------------
    def apply(self) -> Job | None:
        if self.effect is None:
            return None
        if self.scope.currentData() == "spectral":
            job = self.w.spectral_ops.apply_effect(self.effect.id, self.values())
        else:
            job = self.c.apply(self.effect.id, self.values(), self.scope.currentData(), self.mode.currentData())
        if job is not None:
            self.job = job
            self.cancel_button.setEnabled(True)
            self.status.setText(f"Running {job.title}…")
            self.status.setStyleSheet("")
        return job

    def add_current_to_chain(self) -> None:
        if self.effect is None:
            return
        if self.effect.outputs:
            self.w.show_message(f"{self.effect.title} cannot be in a chain: it has several outputs")
            return
        self.add_to_chain.emit(self.effect.id, self.values())

    def cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.job.cancel()
            self.status.setText("Cancelling…")

    def _run_finished(self, job: Job) -> None:
        if job is not self.job:
            return
        self.cancel_button.setEnabled(False)
        state = job.state.value
        warnings = list(dict.fromkeys(job.ctx.warnings))
        if state == "failed":
            self.status.setText(f"Failed: {job.error}")
            self.status.setStyleSheet("color: #d04040;")
        elif warnings:
            self.status.setText(f"{job.title}: {state}. " + " ".join(f"⚠ {w}" for w in warnings))
            self.status.setStyleSheet("color: #c77d00;")
        else:
            self.status.setText(f"{job.title}: {state}")
            self.status.setStyleSheet("")
        self._update_model_note()

    def toggle_preview(self) -> None:
        if self.c.previewing or self.c.preview_job is not None:
            self.c.stop_preview()
            self._preview_state()
            return
        if self.effect is None:
            return
        if self.scope.currentData() == "spectral":
            job = self.w.spectral_ops.preview_effect(self.effect.id, self.values())
        else:
            job = self.c.preview(self.effect.id, self.values(), self.scope.currentData(),
                                 self.preview_output.currentData() or "")
        if job is not None:
            self.status.setText(f"Processing a preview of {self.effect.title}…")
            self.status.setStyleSheet("")
        self._preview_state()

    def _preview_state(self, *_a) -> None:
        busy = self.c.preview_job is not None
        playing = self.c.previewing
        self.preview_button.setText("Stop preview" if (busy or playing) else "Preview")
        if not busy and self.status.text().startswith("Processing a preview"):
            self.status.setText("Preview playing" if playing else "")

    def _variant_changed(self, variant: str) -> None:
        b = self.variant_buttons.get(variant)
        if b is not None:
            b.setChecked(True)


# --------------------------------------------------------------------------- installing


def open_models_dialog(window) -> None:  # noqa: ANN001 - MainWindow
    from ..dialogs.models import ModelsDialog

    dlg = window.models_dialog
    if dlg is None:
        dlg = ModelsDialog(window)
        window.models_dialog = dlg
    dlg.refresh()
    dlg.show()
    dlg.raise_()


def import_model_file(window) -> None:  # noqa: ANN001 - MainWindow
    from ..dialogs.models import import_model_dialog

    import_model_dialog(window)


def show_effect(window, effect_id: str) -> None:  # noqa: ANN001 - MainWindow
    """Open the effect panel on ``effect_id``."""
    window.effects_dock.show()
    window.effects_dock.raise_()
    window.effect_panel.select_effect(effect_id)
    window.effect_panel.search.clear()


def _fill_effects_menu(window, menu: QMenu) -> None:  # noqa: ANN001 - MainWindow
    """(Re)list the effects above the menu's fixed entries (the list can change: plugins, tests)."""
    for a in window.effects_menu_dynamic:
        menu.removeAction(a)
        a.deleteLater()
    window.effects_menu_dynamic = []
    before = window.effects_menu_separator
    by_cat: dict[str, list] = {}
    for cls in window.effects.registry.classes():
        by_cat.setdefault(cls.category, []).append(cls)
    for cat in sorted(by_cat):
        section = menu.insertSection(before, cat)
        window.effects_menu_dynamic.append(section)
        for cls in sorted(by_cat[cat], key=lambda k: k.title.casefold()):
            a = QAction(f"{cls.title}…", menu)
            a.setStatusTip(cls.description or cls.title)
            a.triggered.connect(lambda _c=False, i=cls.id: show_effect(window, i))
            menu.insertAction(before, a)
            window.effects_menu_dynamic.append(a)


def install(window) -> None:  # noqa: ANN001 - MainWindow
    """Add the effect and jobs panels, the Effects menu and the context-menu entries."""
    from .jobs import JobsPanel

    window.effects = EffectController(window, window.registry)
    window.effect_panel = EffectPanel(window.effects)
    window.effects_dock = window.add_dock("Effects", window.effect_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    window.jobs_panel = JobsPanel(window.jobs)
    window.jobs_dock = window.add_dock("Jobs", window.jobs_panel, Qt.DockWidgetArea.RightDockWidgetArea)
    # The right column (history, jobs, effects) runs down to the status bar, beside the bottom docks.
    window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    history = window.history_dock  # Jobs and History share a place (both are logs); effects get the height
    window.tabify(history, window.jobs_dock)

    def sizes() -> None:
        window.resizeDocks([history, window.effects_dock], [200, 600], Qt.Orientation.Vertical)
        # The timeline gets most of the width; the right column about 400 px.
        window.resizeDocks([window.effects_dock], [min(420, window.width() // 3)], Qt.Orientation.Horizontal)

    window.after_show(sizes)
    window.jobs.job_added.connect(lambda job: _show_jobs_dock(window, job))

    act_models = QAction("&Models…", window)
    act_models.setStatusTip("Installed and available AI models: download, import")
    act_models.triggered.connect(lambda: open_models_dialog(window))
    act_import = QAction("&Import Model File…", window)
    act_import.setStatusTip("Install a model file you already have (checked by its checksum)")
    act_import.triggered.connect(lambda: import_model_file(window))
    act_panel = window.effects_dock.toggleViewAction()
    act_panel.setText("Effect &Panel")
    act_panel.setShortcut("Ctrl+Shift+F")
    act_jobs = window.jobs_dock.toggleViewAction()
    act_jobs.setText("&Jobs")
    window.effects_menu_actions = [act_panel, act_jobs, act_models, act_import]
    window.act_models, window.act_import_model = act_models, act_import

    menu = window.menus["Effects"]
    window.effects_menu_dynamic = []
    window.effects_menu_separator = menu.addSeparator()
    for a in window.effects_menu_actions:
        menu.addAction(a)
    menu.aboutToShow.connect(lambda: _fill_effects_menu(window, menu))
    _fill_effects_menu(window, menu)

    def extra(m: QMenu, _info: object) -> None:
        sub = m.addMenu("Effects")
        for cls in sorted(window.effects.registry.classes(), key=lambda k: k.title.casefold()):
            a = sub.addAction(f"{cls.title}…")
            a.triggered.connect(lambda _c=False, i=cls.id: show_effect(window, i))

    window.host.ui.add_context_items("timeline", extra)

    from .chain_actions import install as install_chains  # the Chains panel is tabbed with this one

    install_chains(window)


def _show_jobs_dock(window, job: Job) -> None:  # noqa: ANN001 - MainWindow
    """Effect runs and downloads take a while: show their progress (other jobs stay quiet)."""
    if job.kind in ("effect", "download"):
        window.jobs_dock.show()
        window.jobs_dock.raise_()
