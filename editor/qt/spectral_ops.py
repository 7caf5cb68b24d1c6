"""Operations on the spectral selection (issue 14): gain, any effect inside it, repair.

The Spectral panel (Effects > Spectral Selection > Spectral Gain…, Ctrl+Alt+Shift+G) works on the selection drawn in
the spectrogram (:mod:`.timeline.spectral_tool`). Each operation runs an effect of the
spectral plugin (``spectral-gain``, ``spectral-apply``, ``spectral-repair``) as a
background job on the audio ``processing_span`` names around the selection, with the
selection handed over as the effect's selection parameters (shifted to the part's own
time), and splices the result back as one undo step with the run's provenance. Preview
plays the processed audio around the selection in a loop through the audition service;
A/B switches to the original while it plays; Cancel stops a run or a preview. Repair can
list several takes (Find Takes) to audition; Apply uses the chosen one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.model import Project
from ..core.spectral_selection import SpectralSelection, StftGrid
from ..core.task import TaskContext
from ..jobs.effect_job import RunResult, apply_in_place, parts_for_range, process_parts
from ..jobs.runner import Job

if TYPE_CHECKING:
    from .main_window import MainWindow

OWNER = "spectral"
OPS = (("gain", "Gain", "spectral-gain"), ("effect", "Effect inside", "spectral-apply"),
       ("repair", "Repair", "spectral-repair"))
ENGINES = (("auto", "Auto"), ("interp", "Interpolation"), ("match", "Patch match"), ("neural", "Neural"))
NEG_INF_DB = -120.0
PREVIEW_PAD_S = 0.75


@dataclass
class Run:
    """What one operation does: the effect, its own parameters, the selection and its track."""

    effect_id: str
    params: dict[str, Any]
    selection: SpectralSelection
    track_id: str


# How much audio each spectral effect wants around the selection (docs/SPECTRAL.md, "How a
# selection reaches an effect"): the overlap-add reach of its ~46 ms STFT plus its context.
CONTEXT_S = {"spectral-gain": 0.0, "spectral-apply": 2.0, "spectral-repair": 30.0}


@dataclass
class Take:
    """One repair take found by Find Takes: what the panel lists, and the result to audition."""

    index: int
    label: str
    engine: str
    score: float
    project: Project


def selection_params(sel: SpectralSelection) -> dict[str, Any]:
    """The spectral effects' selection parameters for ``sel`` (times relative to the audio they get)."""
    start, end, low, high = sel.bounds(with_edges=False)
    return {"start": max(0.0, start), "end": max(0.0, end), "low_hz": low,
            "high_hz": 0.0 if high == float("inf") else high,
            "edge_ms": sel.edge_s * 1000.0, "edge_hz": sel.edge_hz, "selection": sel.to_json()}


def processing_span(sel: SpectralSelection, rate: int, frames: int, effect_id: str) -> tuple[int, int]:
    """Timeline frames ``[a, b)`` of the track to hand ``effect_id`` (``a`` on the effects' STFT hop)."""
    grid = StftGrid.for_rate(rate, 0.046, 4)
    t0, t1, _lo, _hi = sel.bounds()
    reach = (grid.n_fft // 2 + grid.hop) / rate + CONTEXT_S.get(effect_id, 2.0)
    a = max(0, int((t0 - reach) * rate) // grid.hop * grid.hop)
    b = min(frames, int(np.ceil((t1 + reach) * rate)) + 1)
    return a, max(a, b)


def track_frames(project: Project, track_id: str) -> int:
    return max((c.end for c in project.track(track_id).clips), default=0)


def process(project: Project, run: Run, effect: Any, ctx_for: Callable[[TaskContext], Any],
            ctx: TaskContext) -> tuple[Project, dict[str, Any]]:
    """``project`` with ``run`` applied to the audio around its selection, and the provenance."""
    rate = project.sample_rate
    a, b = processing_span(run.selection, rate, track_frames(project, run.track_id), run.effect_id)
    parts = parts_for_range(project, a, b, (run.track_id,))
    if not parts:
        raise ValueError("there is no audio under the spectral selection")
    out, provenance = project, {}
    ectx = ctx_for(ctx)
    for i, part in enumerate(parts):
        sel = run.selection.shifted(-part.position / rate)
        values = effect.resolve_params({**selection_params(sel), **run.params})
        sub = ectx.scoped(ectx.sub(i / len(parts), (i + 1) / len(parts))) if len(parts) > 1 else ectx
        result: RunResult = process_parts(project, [part], effect, values, sub)
        out = apply_in_place(out, result)
        provenance = provenance or dict(result.provenance)
    provenance["spectral_selection"] = run.selection.to_dict()
    provenance["track"] = run.track_id
    return out, provenance


class SpectralOps(QObject):
    """Runs, previews and cancels the operations (the panel's buttons and the menu call these)."""

    run_finished = Signal(object)  # the Job, after its result was applied (or it failed)
    preview_ready = Signal(object)  # the Job
    takes_ready = Signal(object)  # the Job

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.job: Job | None = None
        self.preview_job: Job | None = None
        self.takes_job: Job | None = None
        self.preview: dict[str, Project] | None = None
        self.preview_span = (0, 0)
        self.variant = "processed"
        self.takes: list[Take] = []

    # -- what to run -----------------------------------------------------------------
    def current(self, effect_id: str, params: dict[str, Any], edge_ms: float = 0.0, edge_hz: float = 0.0) -> Run | None:
        tool = self.w.spectral_tool
        sel, tid = tool.selection, tool.track_id
        if sel is None or tid is None:
            self.w.show_message("Draw a spectral selection first (View > Spectral Selection > Box)")
            return None
        return Run(effect_id, dict(params), sel.with_edges(edge_ms / 1000.0, edge_hz), tid)

    def _ctx_for(self, effect: Any) -> Callable[[TaskContext], Any]:
        ctl = self.w.effects
        policy, models = ctl.device_policy(), ctl.models()
        return lambda ctx: ctl._context(ctx, effect, policy, models)

    # -- apply -------------------------------------------------------------------------
    def apply(self, run: Run | None) -> Job | None:
        if run is None:
            return None
        effect = self.w.effects.registry.get(run.effect_id)
        self.stop_preview()
        meta: dict[str, Any] = {}
        ctx_for = self._ctx_for(effect)
        values = effect.resolve_params(run.params)
        label = f"{effect.describe_run(values)} (spectral selection)"

        def fn(base: Project, ctx: TaskContext) -> Project:
            out, prov = process(base, run, effect, ctx_for, ctx)
            meta.update(prov)
            return out

        holder: dict[str, Job] = {}
        job = self.w.document.apply_async(fn, label, track_ids=(run.track_id,), meta=meta,
                                          on_done=lambda _ok: self.run_finished.emit(holder["job"]),
                                          gpu=self.w.effects.uses_gpu_slot(effect), kind="effect")
        holder["job"] = job
        self.job = job
        return job

    def _inside(self, effect_id: str, values: dict[str, Any]) -> Run | None:
        import json

        return self.current("spectral-apply", {"effect": effect_id, "effect_params": json.dumps(values, default=str)})

    def apply_effect(self, effect_id: str, values: dict[str, Any]) -> Job | None:
        """Any effect with ``values``, kept inside the spectral selection (the effect panel's
        "Inside the spectral selection")."""
        return self.apply(self._inside(effect_id, values))

    def preview_effect(self, effect_id: str, values: dict[str, Any]) -> Job | None:
        return self.start_preview(self._inside(effect_id, values))

    # -- preview -----------------------------------------------------------------------
    def start_preview(self, run: Run | None, take: int | None = None) -> Job | None:
        if run is None:
            return None
        effect = self.w.effects.registry.get(run.effect_id)
        self.stop_preview()
        original = self.w.project
        rate = original.sample_rate
        t0, t1, _lo, _hi = run.selection.bounds()
        start = max(0, int((t0 - PREVIEW_PAD_S) * rate))
        stop = min(track_frames(original, run.track_id), int((t1 + PREVIEW_PAD_S) * rate))
        ctx_for = self._ctx_for(effect)
        chosen = self.takes[take] if take is not None and 0 <= take < len(self.takes) else None

        def work(ctx: TaskContext) -> dict[str, Project]:
            if chosen is not None and chosen.project is not None:
                return {"original": original, "processed": chosen.project}
            processed, _prov = process(original, run, effect, ctx_for, ctx)
            return {"original": original, "processed": processed}

        job = Job(f"Preview {effect.title} (spectral selection)", work, gpu=self.w.effects.uses_gpu_slot(effect),
                  kind="preview")

        def ok(projects: dict[str, Project]) -> None:
            if self.preview_job is job:
                self.preview_job = None
                self.preview, self.preview_span, self.variant = projects, (start, stop), "processed"
                self.play()
            self.preview_ready.emit(job)

        def fail(message: str) -> None:
            if self.preview_job is job:
                self.preview_job = None
            self.w.show_error(f"Preview {effect.title}: {message}")
            self.preview_ready.emit(job)

        def cancelled() -> None:
            if self.preview_job is job:
                self.preview_job = None
            self.preview_ready.emit(job)

        self.w.host.jobs.relay(job, ok, fail, cancelled)
        self.preview_job = job
        self.w.jobs.submit(job)
        return job

    def play(self) -> None:
        if self.preview is None:
            return
        if not self.w.player.available:
            self.w.show_message(f"Preview ready, but there is no audio output: {self.w.player.reason}")
            return
        a, b = self.preview_span
        self.w.audition.play(OWNER, self.preview[self.variant], a, b, loop=True, variant=self.variant)

    def toggle_ab(self) -> str:
        """Switch the preview between the processed and the original audio (while it plays)."""
        self.variant = "original" if self.variant == "processed" else "processed"
        if self.preview is not None and self.w.audition.is_playing(OWNER):
            self.w.audition.switch(OWNER, self.preview[self.variant], self.variant)
        self.w.show_message(f"Spectral preview: {self.variant}")
        return self.variant

    def stop_preview(self) -> None:
        if self.preview_job is not None:
            self.preview_job.cancel()
            self.preview_job = None
        self.w.audition.stop(OWNER)

    def cancel(self) -> None:
        """Cancel: the running operation, the preview being computed and the one playing."""
        for job in (self.job, self.takes_job):
            if job is not None and job.active:
                job.cancel()
        self.stop_preview()
        self.preview = None

    # -- repair takes ---------------------------------------------------------------------
    def find_takes(self, run: Run | None, engine: str, n_takes: int) -> Job | None:
        """Repair with takes 0 .. ``n_takes`` - 1 (fewer if the engines offer fewer), each kept to audition."""
        if run is None:
            return None
        effect = self.w.effects.registry.get("spectral-repair")
        project = self.w.project
        ctx_for = self._ctx_for(effect)

        def work(ctx: TaskContext) -> list[Take]:
            out: list[Take] = []
            for i in range(n_takes):
                params = {**run.params, "engine": engine, "take": i}
                sub = ctx.sub(i / n_takes, (i + 1) / n_takes)
                processed, prov = process(project, Run(run.effect_id, params, run.selection, run.track_id),
                                          effect, ctx_for, sub)
                info = prov.get("spectral_repair", {})
                if info.get("take", i) != i:
                    break  # clamped: the engines have no more takes for this selection
                out.append(Take(i, str(info.get("label", f"Take {i + 1}")), str(info.get("engine", engine)),
                                float(info.get("score", 0.0)), processed))
            return out

        job = Job("Spectral repair takes", work, gpu=self.w.effects.uses_gpu_slot(effect), kind="effect")

        def ok(takes: list[Take]) -> None:
            self.takes = list(takes)
            self.takes_ready.emit(job)

        def fail(message: str) -> None:
            self.w.show_error(f"Spectral repair takes: {message}")
            self.takes_ready.emit(job)

        self.w.host.jobs.relay(job, ok, fail, lambda: self.takes_ready.emit(job))
        self.takes_job = job
        self.w.jobs.submit(job)
        return job


class SpectralPanel(QWidget):
    """Gain, an effect inside, or repair, for the spectral selection: Preview, A/B, Cancel, Apply."""

    def __init__(self, window: MainWindow, ops: SpectralOps) -> None:
        super().__init__()
        self.w, self.ops = window, ops
        self.setAccessibleName("Spectral operations")
        lay = QVBoxLayout(self)
        self.where = QLabel("No spectral selection: choose View > Spectral Selection > Box and drag on a spectrogram")
        self.where.setWordWrap(True)
        self.where.setAccessibleName("Spectral selection bounds")
        lay.addWidget(self.where)
        form = QFormLayout()
        self.op = QComboBox()
        for key, label, _eid in OPS:
            self.op.addItem(label, key)
        self.op.setAccessibleName("Spectral operation")
        form.addRow("&Operation:", self.op)
        self.gain = QDoubleSpinBox()
        self.gain.setRange(NEG_INF_DB, 24.0)
        self.gain.setValue(-30.0)
        self.gain.setSuffix(" dB")
        self.gain.setSpecialValueText("−∞ dB")
        self.gain.setAccessibleName("Spectral gain in dB")
        form.addRow("&Gain:", self.gain)
        self.edge_ms = QDoubleSpinBox()
        self.edge_ms.setRange(0.0, 1000.0)
        self.edge_ms.setSuffix(" ms")
        self.edge_ms.setAccessibleName("Soft edge in time")
        form.addRow("Edge in &time:", self.edge_ms)
        self.edge_hz = QDoubleSpinBox()
        self.edge_hz.setRange(0.0, 5000.0)
        self.edge_hz.setSuffix(" Hz")
        self.edge_hz.setAccessibleName("Soft edge in frequency")
        form.addRow("Edge in &frequency:", self.edge_hz)
        self.effect = QComboBox()
        for eff in window.effects.registry.classes():
            if not eff.id.startswith("spectral-") and not eff.outputs and not eff.changes_length:
                self.effect.addItem(eff.title, eff.id)
        self.effect.setAccessibleName("Effect to run inside the selection")
        form.addRow("&Effect:", self.effect)
        self.effect_params = QLineEdit()
        self.effect_params.setPlaceholderText("name=value; name=value (empty: the effect's defaults)")
        self.effect_params.setAccessibleName("Parameters of the effect inside the selection")
        form.addRow("Effect &parameters:", self.effect_params)
        self.engine = QComboBox()
        for key, label in ENGINES:
            self.engine.addItem(label, key)
        self.engine.setAccessibleName("Repair engine")
        form.addRow("E&ngine:", self.engine)
        self.n_takes = QSpinBox()
        self.n_takes.setRange(1, 10)
        self.n_takes.setValue(4)
        self.n_takes.setAccessibleName("Number of repair takes")
        form.addRow("Ta&kes:", self.n_takes)
        lay.addLayout(form)
        self.takes = QListWidget()
        self.takes.setAccessibleName("Repair takes")
        self.takes.setToolTip("Repair takes: choose one to preview or apply (Find Takes lists them)")
        lay.addWidget(self.takes)
        row = QHBoxLayout()
        self.btn_takes = self._button("Find Ta&kes", "Find spectral repair takes", self.find_takes)
        self.btn_preview = self._button("&Preview", "Preview spectral operation", self.preview)
        self.btn_ab = self._button("A/&B", "Switch spectral preview between processed and original", ops.toggle_ab)
        self.btn_cancel = self._button("Ca&ncel", "Cancel spectral operation or preview", ops.cancel)
        self.btn_apply = self._button("&Apply", "Apply spectral operation", self.apply)
        for b in (self.btn_takes, self.btn_preview, self.btn_ab, self.btn_cancel, self.btn_apply):
            row.addWidget(b)
        lay.addLayout(row)
        lay.addStretch(1)
        self.op.currentIndexChanged.connect(self._op_changed)
        self.engine.currentIndexChanged.connect(self._op_changed)
        ops.takes_ready.connect(self._show_takes)
        window.spectral_tool.changed.connect(self._sel_changed)
        window.state.selection_changed.connect(self._sel_changed)
        self._op_changed()
        self._sel_changed()

    def _button(self, text: str, name: str, slot: Callable[[], Any]) -> QPushButton:
        b = QPushButton(text)
        b.setAccessibleName(name)
        b.setToolTip(name)
        b.clicked.connect(lambda _c=False: slot())
        return b

    def set_op(self, key: str) -> None:
        self.op.setCurrentIndex([k for k, _l, _e in OPS].index(key))

    def _op_changed(self) -> None:
        key = self.op.currentData()
        self.gain.setEnabled(key == "gain")
        self.effect.setEnabled(key == "effect")
        self.effect_params.setEnabled(key == "effect")
        for wdg in (self.engine, self.n_takes, self.takes, self.btn_takes):
            wdg.setEnabled(key == "repair")
        self.ops.takes = []
        self.takes.clear()

    def _sel_changed(self) -> None:
        text = self.w.spectral_tool.status_text()
        self.where.setText(text or "No spectral selection: choose View > Spectral Selection > Box and drag "
                                   "on a spectrogram")
        if text != getattr(self, "_last_where", None):  # takes belong to the selection they were found for
            self._last_where = text
            self.ops.takes = []
            self.takes.clear()

    def run(self) -> Run | None:
        key = self.op.currentData()
        eid = next(e for k, _l, e in OPS if k == key)
        if key == "gain":
            params: dict[str, Any] = {"gain_db": self.gain.value()}
        elif key == "effect":
            params = {"effect": self.effect.currentData() or "", "effect_params": self.effect_params.text().strip()}
        else:
            row = self.takes.currentRow()
            params = {"engine": self.engine.currentData(), "take": max(0, row) if self.ops.takes else 0}
        return self.ops.current(eid, params, self.edge_ms.value(), self.edge_hz.value())

    def apply(self) -> Job | None:
        return self.ops.apply(self.run())

    def preview(self) -> Job | None:
        take = self.takes.currentRow() if self.op.currentData() == "repair" and self.ops.takes else None
        return self.ops.start_preview(self.run(), take)

    def find_takes(self) -> Job | None:
        self.takes.clear()
        return self.ops.find_takes(self.run(), self.engine.currentData(), self.n_takes.value())

    def _show_takes(self, _job: Job) -> None:
        self.takes.clear()
        for i, t in enumerate(self.ops.takes):
            self.takes.addItem(f"{i + 1}. {t.label} ({t.engine}, score {t.score:.2f})")
        if self.ops.takes:
            self.takes.setCurrentRow(0)


def install(window: MainWindow) -> SpectralPanel:
    """The Spectral panel (a dock) and Effects > Spectral entries."""
    ops = SpectralOps(window)
    panel = SpectralPanel(window, ops)
    window.spectral_ops, window.spectral_panel = ops, panel
    dock = window.add_dock("Spectral", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    window.spectral_dock = dock
    # The effect panel's "Inside the spectral selection" runs here: its status follows these runs too.
    ops.run_finished.connect(window.effect_panel._run_finished)
    dock.hide()
    window.host.ui.register_panel("spectral", panel, dock)
    menu = window.menus["Effects"].addMenu("&Spectral Selection")
    menu.setAccessibleName("Spectral selection operations")

    def show(op: str) -> None:
        panel.set_op(op)
        dock.show()
        dock.raise_()
        panel.op.setFocus()

    for key, text, keys in (("gain", "Spectral &Gain…", "Ctrl+Alt+Shift+G"),
                            ("effect", "&Effect Inside Spectral Selection…", "Ctrl+Alt+Shift+I"),
                            ("repair", "Spectral &Repair…", "Ctrl+Alt+Shift+R")):
        menu.addAction(window.action(text, lambda _c=False, k=key: show(k), keys,
                                     f"{text.replace('&', '').rstrip('…')} on the spectral selection"))

    def context_items(m, _info) -> None:  # noqa: ANN001 - QMenu, ContextInfo
        if window.spectral_tool.selection is None:
            return
        m.addSeparator()
        for key, text in (("gain", "Spectral Gain…"), ("effect", "Effect Inside Spectral Selection…"),
                          ("repair", "Spectral Repair…")):
            m.addAction(text, lambda k=key: show(k))

    window.host.ui.add_context_items("timeline", context_items)
    window.host.ui.add_context_items("clip", context_items)
    menu.addAction(window.action("Apply Spectral Operation", lambda: panel.apply(), "Ctrl+Alt+Shift+Return",
                                 "Apply the Spectral panel's operation to the spectral selection"))
    menu.addAction(window.action("Preview Spectral Operation", lambda: panel.preview(), "Ctrl+Alt+Shift+Space",
                                 "Preview the Spectral panel's operation"))
    return panel
