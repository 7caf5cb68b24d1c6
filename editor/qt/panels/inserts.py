"""The insert chain section of a mixer strip: live effects on a track or the master.

A compact, collapsible list of the chain's steps under the strip's name, with
buttons to add (a menu of the effects that can run live), remove, move up/down,
bypass (a pressed button), open a step's parameters and — on a track — Apply
(bake the chain into the clips). A slider sets the selected step's wet/dry.

Keyboard: in the list, Ctrl+Up/Down reorder, Delete removes, Enter opens the
parameters, Space toggles bypass, Insert opens the Add menu.

Every change is an edit of :mod:`editor.core.insert_edits` through the mixer's
edit path (so a slider drag is one undo step: the mixer holds the history's
merge for the drag's merge key and ends it on release, as for its faders). The
player re-renders when the project changes, so changes are heard while playing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.chain import Chain, ChainStep
from ...core.errors import SeedwaveError
from ...core.insert_edits import (
    MASTER,
    add_insert,
    chain_of,
    insert_merge_key,
    move_insert,
    remove_insert,
    set_insert_bypass,
    set_insert_params,
    set_insert_wet,
)
from ...core.model import Project
from ...effects.base import Effect
from ...effects.live import bake_track, check_insert, live_effect_ids
from ...effects.registry import registry
from ...engine.inserts import InsertError
from ...host.widgets.form_extras import add_form_extras
from ...host.widgets.param_form import NumberField, ParamForm

if TYPE_CHECKING:
    from .mixer import MixerPanel

_STYLE = """
QToolButton { min-width: 16px; font-weight: normal; padding: 0px 2px; }
QToolButton#apply { padding: 0px; min-width: 0px; font-size: 8pt; }
QToolButton#bypass:checked { background: #d9a21b; color: black; font-weight: bold; }
QListWidget { font-size: 8pt; }
"""
LIST_HEIGHT = 52  # about three steps; more scroll


def _effect(effect_id: str) -> Effect | None:
    try:
        return registry().get(effect_id)
    except SeedwaveError:
        return None


def effect_title(effect_id: str) -> str:
    eff = _effect(effect_id)
    return (eff.title if eff is not None and eff.title else effect_id)


class _StepList(QListWidget):
    """The steps; Ctrl+Up/Down reorder, Delete removes, Enter opens, Space bypasses."""

    def __init__(self, section: InsertSection) -> None:
        super().__init__()
        self.section = section

    def keyPressEvent(self, e) -> None:  # noqa: ANN001 - QKeyEvent
        ctrl = bool(e.modifiers() & Qt.KeyboardModifier.ControlModifier)
        key = e.key()
        if ctrl and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.section.move(-1 if key == Qt.Key.Key_Up else 1)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.section.remove()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.section.open_params()
        elif key == Qt.Key.Key_Space:
            self.section.bypass_btn.click()
        elif key == Qt.Key.Key_Insert:
            self.section.add_btn.showMenu()
        else:
            super().keyPressEvent(e)


def _tool(text: str, name: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setAccessibleName(name)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return b


class InsertSection(QWidget):
    """The insert chain of ``owner`` (a track id, or ``MASTER``) in a mixer strip."""

    def __init__(self, mixer: MixerPanel, owner: str | None, name: str) -> None:
        super().__init__()
        self.mixer = mixer
        self.owner = owner
        self.name = name
        self.chain: Chain | None = None
        self.editors: dict[str, InsertEditor] = {}
        self.setStyleSheet(_STYLE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.toggle.toggled.connect(self.set_expanded)
        lay.addWidget(self.toggle)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        self.list = _StepList(self)
        self.list.setMaximumHeight(LIST_HEIGHT)
        self.list.setAccessibleName(f"{name} insert effects")
        self.list.setToolTip("Insert effects, top to bottom. Ctrl+Up/Down: reorder, Delete: remove, "
                             "Enter: parameters, Space: bypass, Insert: add")
        self.list.currentRowChanged.connect(lambda _r: self._show_current())
        self.list.itemDoubleClicked.connect(lambda _i: self.open_params())
        body.addWidget(self.list)

        self.add_btn = _tool("+", f"Add insert effect to {name}", "Add an effect to the chain")
        self.add_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_btn)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_btn.setMenu(self.add_menu)
        self.remove_btn = _tool("\u2212", f"Remove insert effect from {name}", "Remove the selected effect (Delete)")
        self.up_btn = _tool("\u25b2", f"Move insert effect up on {name}", "Move up (Ctrl+Up)")
        self.down_btn = _tool("\u25bc", f"Move insert effect down on {name}", "Move down (Ctrl+Down)")
        self.bypass_btn = _tool("B", f"Bypass insert effect on {name}", "Bypass the selected effect (Space)")
        self.bypass_btn.setObjectName("bypass")
        self.bypass_btn.setCheckable(True)
        self.edit_btn = _tool("\u2026", f"Insert effect parameters on {name}",
                              "Open the selected effect's parameters (Enter)")
        self.apply_btn = _tool("Apply", f"Apply insert effects of {name} to its clips",
                               "Apply: render the chain into the track's clips (one undo step) and take it off")
        self.apply_btn.setObjectName("apply")
        self.remove_btn.clicked.connect(self.remove)
        self.up_btn.clicked.connect(lambda: self.move(-1))
        self.down_btn.clicked.connect(lambda: self.move(1))
        self.bypass_btn.clicked.connect(self._bypass_clicked)
        self.edit_btn.clicked.connect(self.open_params)
        self.apply_btn.clicked.connect(self.apply)
        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.setSpacing(1)
        for b in (self.add_btn, self.remove_btn, self.up_btn, self.down_btn):
            row1.addWidget(b)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.setSpacing(1)
        for b in (self.bypass_btn, self.edit_btn):
            b.setFixedWidth(20)
            row2.addWidget(b)
        row2.addStretch(0)
        if owner is not MASTER:
            row2.addWidget(self.apply_btn, 1)
        else:
            self.apply_btn.hide()
        body.addLayout(row1)
        body.addLayout(row2)
        self.wet = QSlider(Qt.Orientation.Horizontal)
        self.wet.setRange(0, 100)
        self.wet.setAccessibleName(f"{name} insert wet/dry")
        self.wet.setToolTip("Wet/dry of the selected effect: 0% dry only, 100% effect only")
        self.wet.sliderPressed.connect(lambda: self._hold("wet"))
        self.wet.sliderReleased.connect(self.mixer._end_merge)
        self.wet.valueChanged.connect(self._wet_changed)
        self.wet_label = QLabel("")
        self.wet_label.setToolTip(self.wet.toolTip())
        f = self.wet_label.font()
        f.setPointSizeF(max(6.0, f.pointSizeF() - 1))
        self.wet_label.setFont(f)
        self.wet_label.setFixedWidth(self.wet_label.fontMetrics().horizontalAdvance("100%") + 2)
        wet_row = QHBoxLayout()
        wet_row.setContentsMargins(0, 0, 0, 0)
        wet_row.setSpacing(2)
        wet_row.addWidget(self.wet_label)
        wet_row.addWidget(self.wet, 1)
        body.addLayout(wet_row)
        lay.addWidget(self.body)
        self.set_expanded(False)

    # -- view ------------------------------------------------------------------------------------------
    def set_expanded(self, on: bool) -> None:
        if self.toggle.isChecked() != on:
            self.toggle.setChecked(on)  # comes back here through toggled
            return
        self.body.setVisible(on)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._label_toggle()
        if on:
            self._make_room()

    def _make_room(self) -> None:
        """Grow the mixer dock if the opened section would squeeze the strip's fader."""
        strip = self.parentWidget()
        dock = getattr(self.mixer.main, "mixer_dock", None)
        if strip is None or dock is None or dock.isFloating() or not dock.isVisible():
            return
        strip.layout().activate()
        short = strip.minimumSizeHint().height() + 140 - strip.height()  # 140: room for the fader
        if short > 0:
            self.mixer.main.resizeDocks([dock], [dock.height() + short], Qt.Orientation.Vertical)

    def _label_toggle(self) -> None:
        n = len(self.chain) if self.chain is not None else 0
        self.toggle.setText(f"FX {n}" if n else "FX")
        self.toggle.setAccessibleName(f"{self.name} insert effects ({n})")
        self.toggle.setToolTip(("Hide" if self.toggle.isChecked() else "Show") + f" the insert effects ({n})")

    def set_name(self, name: str) -> None:
        self.name = name
        self.list.setAccessibleName(f"{name} insert effects")
        self._label_toggle()

    def update_from(self, project: Project, busy: str | None = None) -> None:
        """Show the chain of ``project``; unchanged chains (the same object) cost nothing."""
        try:
            chain = chain_of(project, self.owner)
        except SeedwaveError:
            return
        for ed in list(self.editors.values()):
            ed.follow(project)
        if chain is self.chain:
            return
        self.chain = chain
        current = self.current_step()
        keep = current.id if current is not None else None
        self.list.blockSignals(True)
        self.list.clear()
        for s in chain:
            item = QListWidgetItem(effect_title(s.effect_id) + (" (off)" if s.bypass else ""))
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            item.setToolTip(f"{effect_title(s.effect_id)}: {'bypassed' if s.bypass else 'on'}, "
                            f"wet {round(s.wet * 100)}%")
            if s.bypass:
                f = item.font()
                f.setStrikeOut(True)
                item.setFont(f)
                item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(item)
        ids = [s.id for s in chain]
        row = ids.index(keep) if keep in ids else (0 if ids else -1)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self._label_toggle()
        self._show_current(busy)

    def close_editors(self) -> None:
        """Close the parameter editors of this chain (its track is gone)."""
        for ed in list(self.editors.values()):
            ed.close()

    def current_step(self) -> ChainStep | None:
        item = self.list.currentItem()
        if item is None or self.chain is None:
            return None
        try:
            return self.chain.step(item.data(Qt.ItemDataRole.UserRole))
        except KeyError:
            return None

    def select(self, step_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == step_id:
                self.list.setCurrentRow(i)
                return

    def _show_current(self, busy: str | None = None) -> None:
        step = self.current_step()
        has = step is not None
        for b in (self.remove_btn, self.bypass_btn, self.edit_btn, self.wet):
            b.setEnabled(has)
        i = self.list.currentRow()
        self.up_btn.setEnabled(has and i > 0)
        self.down_btn.setEnabled(has and i < self.list.count() - 1)
        self.apply_btn.setEnabled(bool(self.chain is not None and self.chain.active))
        self.bypass_btn.setChecked(bool(step is not None and step.bypass))
        if step is not None and busy != self._key(step.id, "wet") and not self.wet.isSliderDown():
            self.wet.blockSignals(True)
            self.wet.setValue(round(step.wet * 100))
            self.wet.blockSignals(False)
        self.wet_label.setText(f"{self.wet.value()}%" if has else "")

    # -- edits -----------------------------------------------------------------------------------------
    def _key(self, step_id: str, control: str) -> str:
        return insert_merge_key(self.owner, step_id, control)

    def _where(self) -> str:
        return self.name

    def _hold(self, control: str) -> None:
        step = self.current_step()
        if step is not None:
            self.mixer._hold(self._key(step.id, control))

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        live = live_effect_ids()
        for eid in sorted(live, key=lambda e: effect_title(e).lower()):
            act = self.add_menu.addAction(effect_title(eid))
            act.setData(eid)
            act.triggered.connect(lambda _c=False, e=eid: self.add(e))
        others = [c.id for c in registry().classes() if c.id not in live]
        if others:
            sub = self.add_menu.addMenu("Not available live")
            for eid in sorted(others, key=lambda e: effect_title(e).lower()):
                act = sub.addAction(effect_title(eid))
                act.triggered.connect(lambda _c=False, e=eid: self.add(e))

    def add(self, effect_id: str) -> str | None:
        """Add ``effect_id`` after the selected step (or at the end); returns the new step's id."""
        try:
            check_insert(effect_id)
        except InsertError as exc:
            self.mixer.main.show_error(str(exc))
            return None
        step = ChainStep.make(effect_id)
        i = self.list.currentRow()
        at = i + 1 if i >= 0 else None
        ok = self.mixer._edit_now(lambda p: add_insert(p, self.owner, step, at=at),
                                  f"Add {effect_title(effect_id)} to {self._where()}")
        if ok:
            self.set_expanded(True)
            self.select(step.id)
            return step.id
        return None

    def remove(self) -> None:
        step = self.current_step()
        if step is None:
            return
        self.mixer._edit_now(lambda p: remove_insert(p, self.owner, step.id),
                             f"Remove {effect_title(step.effect_id)} from {self._where()}")

    def move(self, delta: int) -> None:
        step = self.current_step()
        if step is None:
            return
        to = self.list.currentRow() + delta
        if not 0 <= to < self.list.count():
            return
        self.mixer._edit_now(lambda p: move_insert(p, self.owner, step.id, to),
                             f"Move {effect_title(step.effect_id)} on {self._where()}")
        self.select(step.id)

    def _bypass_clicked(self, on: bool) -> None:
        step = self.current_step()
        if step is None:
            return
        self.mixer._edit_now(lambda p: set_insert_bypass(p, self.owner, step.id, on),
                             f"{'Bypass' if on else 'Enable'} {effect_title(step.effect_id)} on {self._where()}")

    def _wet_changed(self, value: int) -> None:
        step = self.current_step()
        self.wet_label.setText(f"{value}%")
        if step is None:
            return
        self.mixer._edit(lambda p: set_insert_wet(p, self.owner, step.id, value / 100.0),
                         f"Wet/dry {effect_title(step.effect_id)} on {self._where()}", self._key(step.id, "wet"))

    def open_params(self) -> InsertEditor | None:
        step = self.current_step()
        if step is None:
            return None
        ed = self.editors.get(step.id)
        if ed is None:
            eff = _effect(step.effect_id)
            if eff is None:
                self.mixer.main.show_error(f"Effect {step.effect_id!r} is not installed")
                return None
            ed = InsertEditor(self, step, eff)
            self.editors[step.id] = ed
            ed.finished.connect(lambda _r, sid=step.id: self.editors.pop(sid, None))
        ed.show()
        ed.raise_()
        ed.activateWindow()
        return ed

    def apply(self) -> None:
        """Bake the track's chain into its clips (a background job, one undo step)."""
        tid = self.owner
        if tid is MASTER or self.chain is None or not self.chain.active:
            return
        self.mixer._flush()
        self.mixer.document.apply_async(lambda p, ctx: bake_track(p, tid, ctx), "Apply effects", track_ids=(tid,))


class InsertEditor(QDialog):
    """The parameters of one insert step: the effect's form (and its curve, if it draws one).
    Changes are edits of the chain; a slider drag is one undo step."""

    def __init__(self, section: InsertSection, step: ChainStep, effect: Effect) -> None:
        super().__init__(section.mixer.main)
        self.section = section
        self.step_id = step.id
        self.effect = effect
        self._following = False
        self.setWindowTitle(f"{effect.title} \u2014 {section.name}")
        self.setAccessibleName(f"{effect.title} insert parameters")
        self.setModal(False)
        lay = QVBoxLayout(self)
        self.form = ParamForm(effect.params)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.extras = add_form_extras(self.form, effect, lambda: section.mixer.document.project.sample_rate,
                                      selection=None)
        scroll.setWidget(self.form)
        lay.addWidget(scroll, 1)
        self.resize(400, min(640, self.form.sizeHint().height() + 60))
        for name, w in self.form.fields.items():
            if isinstance(w, NumberField) and w.slider is not None:
                w.slider.sliderPressed.connect(lambda n=name: self.section.mixer._hold(self._key(n)))
                w.slider.sliderReleased.connect(self.section.mixer._end_merge)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.button(QDialogButtonBox.StandardButton.Close).clicked.connect(self.close)
        lay.addWidget(buttons)
        QShortcut(QKeySequence.StandardKey.Undo, self).activated.connect(section.mixer.document.undo)
        QShortcut(QKeySequence.StandardKey.Redo, self).activated.connect(section.mixer.document.redo)
        self.form.changed.connect(self._changed)
        self.follow(section.mixer.document.project)

    def _key(self, name: str) -> str:
        return insert_merge_key(self.section.owner, self.step_id, name)

    def step(self, project: Project) -> ChainStep | None:
        try:
            return chain_of(project, self.section.owner).step(self.step_id)
        except (SeedwaveError, KeyError):
            return None

    def shown_values(self, step: ChainStep) -> dict[str, Any]:
        try:
            return type(self.effect).resolve_params(step.param_dict)
        except SeedwaveError:
            return {**{p.name: p.default for p in self.effect.params}, **step.param_dict}

    def follow(self, project: Project) -> None:
        """Show the step's values in ``project`` (after an undo, say); close if it is gone."""
        step = self.step(project)
        if step is None:
            self.close()
            return
        values = self.shown_values(step)
        if values == self.form.values():
            return
        pending = self.section.mixer._pending
        if pending is not None and pending[2].startswith(self._key("")):
            return  # a drag of ours is still being applied: keep what the user set
        self._following = True
        try:
            self.form.set_values(values)
        finally:
            self._following = False

    def _changed(self) -> None:
        if self._following:
            return
        project = self.section.mixer.document.project
        step = self.step(project)
        if step is None:
            return
        old = self.shown_values(step)
        new = self.form.values()
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            return
        name = next(iter(changed)) if len(changed) == 1 else "params"
        owner, sid = self.section.owner, self.step_id
        label = f"{self.effect.title}: {self.effect.param(name).title if name != 'params' else 'parameters'}"
        self.section.mixer._edit(lambda p: set_insert_params(p, owner, sid, **changed), label, self._key(name))


__all__ = ["InsertEditor", "InsertSection", "effect_title"]
