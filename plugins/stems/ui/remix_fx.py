"""Another effect on one stem (e.g. denoise the vocals), as a job.

The remix panel offers every effect that turns one audio into one audio of the
same length. The processed stem replaces that stem in the panel's working set
(:meth:`StemSession.set_processed`); the stem cache keeps the separated one, and
"Revert to the separated stem" brings it back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.effects import device as devices
from editor.effects.base import Effect, EffectContext
from editor.effects.runner import Source, run_effect
from editor.host.widgets.param_form import ParamForm
from editor.jobs.runner import Job

EXCLUDED = ("stems", "remix")  # separating a stem again makes no sense here


def stem_effects(classes: list[type[Effect]]) -> list[tuple[str, str]]:
    """(id, title) of the effects that can process one stem, sorted by title."""
    ok = [c for c in classes if not c.outputs and not c.changes_length and c.id not in EXCLUDED]
    return [(c.id, c.title) for c in sorted(ok, key=lambda c: c.title.casefold())]


class StemEffectDialog(QDialog):
    """The chosen effect's parameters; Run starts it on the stem. Opened with ``open()``
    (window-modal but not blocking), so the app keeps running behind it."""

    def __init__(self, effect: Effect, stem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.effect = effect
        self.stem = stem
        self.setWindowTitle(f"{effect.title} on {stem}")
        self.setAccessibleName(f"{effect.title} on the {stem} stem")
        lay = QVBoxLayout(self)
        about = QLabel(f"Process only the {stem} stem with {effect.title}, then remix.")
        about.setWordWrap(True)
        lay.addWidget(about)
        if effect.description:
            desc = QLabel(effect.description)
            desc.setWordWrap(True)
            desc.setStyleSheet("color: palette(mid);")
            lay.addWidget(desc)
        self.form = ParamForm(effect.params)
        lay.addWidget(self.form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.run_button.setText("Run")
        self.run_button.setAccessibleName(f"Run {effect.title} on {stem}")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        return self.form.values()


def stem_effect_job(effect: Effect, stem: str, audio: AudioSeq, rate: int, params: dict[str, Any],
                    policy: str, models: Any, gpu: bool) -> Job:
    """A job that runs ``effect`` over ``audio`` (one whole stem); its result is the
    EffectResult (an AudioSeq of the same length, and the provenance)."""

    def work(ctx: TaskContext) -> Any:
        ectx = EffectContext(ctx, "cpu", models)
        ectx.device = devices.resolve_device(effect.uses_gpu, policy, ectx.warn, effect.title)
        return run_effect(effect, Source.from_seq(audio, rate), params, ectx)

    return Job(f"{effect.title} on {stem}", work, gpu=gpu, kind="effect")
