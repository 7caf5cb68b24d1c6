"""The effect protocol: what an effect declares and how it is called.

An effect is a class with class attributes describing it (id, title, version,
parameters, model needs, GPU use, native rate, latency) and a method
``process(audio, sample_rate, params, context)``. ``audio`` is planar float32
(channels × frames). ``process`` returns planar audio of the same shape, or for
effects with ``outputs`` (stem separation) a dict of such arrays, one per output.

Effects must import heavy packages (torch, model code) inside ``process`` or
helpers it calls, never at module import: the registry imports every effect
class at start-up to list them.

Long inputs are cut into overlapping chunks by the runner
(:mod:`editor.effects.runner`) according to ``chunk_seconds`` and
``overlap_seconds``; an effect that needs the whole input at once (a gap fill)
sets ``chunk_seconds = None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..core.errors import SeedwaveError
from ..core.task import TaskContext


class EffectError(SeedwaveError):
    """An effect cannot run with these settings or this input."""


@dataclass(frozen=True)
class Param:
    """One parameter of an effect, enough to build a form and validate input."""

    name: str
    type: str  # "float" | "int" | "bool" | "choice" | "str"
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    unit: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    label: str = ""
    choice_labels: tuple[str, ...] = ()  # what a form shows for each of ``choices`` (default: the choice)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def choice_title(self, choice: str) -> str:
        """The text a form shows for ``choice`` (the value itself stays the id)."""
        if choice in self.choices and len(self.choice_labels) == len(self.choices):
            return self.choice_labels[self.choices.index(choice)]
        return choice

    def coerce(self, value: Any) -> Any:
        """Validate ``value`` (possibly a string from the command line)."""
        try:
            if self.type == "float":
                v: Any = float(value)
                if math.isnan(v):
                    raise ValueError
            elif self.type == "int":
                v = int(float(value))
            elif self.type == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError
                    v = low in ("1", "true", "yes", "on")
                else:
                    v = bool(value)
            elif self.type == "choice":
                v = str(value)
                if v not in self.choices:
                    raise EffectError(f"{self.name} must be one of {', '.join(self.choices)} (got {v!r})")
            else:
                v = str(value)
        except (TypeError, ValueError):
            raise EffectError(f"{self.name}: {value!r} is not a valid {self.type}") from None
        out_of_range = (self.min is not None and v < self.min) or (self.max is not None and v > self.max)
        if self.type in ("float", "int") and out_of_range:
            raise EffectError(
                f"{self.name} must be between {self.min:g} and {self.max:g}{' ' + self.unit if self.unit else ''}"
                f" (got {v:g})"
            )
        return v


@dataclass(frozen=True)
class ModelSpec:
    """A model file an effect may need, as the model manager knows it."""

    name: str
    filename: str
    sha256: str
    size: int = 0
    url: str = ""
    license: str = ""
    description: str = ""


class EffectContext(TaskContext):
    """What ``process`` gets besides the audio: progress, cancel, device, models.

    ``device`` is a torch device string ("cpu", "cuda", "mps"). ``models`` is the
    :class:`~editor.effects.models.ModelManager`. ``info`` collects facts about
    the run (model checksum, engine used) that end up in the history entry.
    """

    def __init__(self, parent: TaskContext | None = None, device: str = "cpu", models: Any = None) -> None:
        super().__init__()
        self._parent = parent
        if parent is not None:
            self.warnings = parent.warnings
        self.device = device
        self.models = models
        self.info: dict[str, Any] = {}

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled if self._parent is not None else super().cancelled

    def check(self) -> None:
        if self._parent is not None:
            self._parent.check()
        else:
            super().check()

    def cancel(self) -> None:
        if self._parent is not None:
            self._parent.cancel()
        super().cancel()

    def progress(self, fraction: float, message: str = "") -> None:
        if self._parent is not None:
            self._parent.progress(fraction, message)
        else:
            super().progress(fraction, message)

    def warn(self, text: str) -> None:
        if self._parent is not None:
            self._parent.warn(text)
        else:
            super().warn(text)

    def scoped(self, parent: TaskContext) -> EffectContext:
        """The same device, models and info, reporting to another task context."""
        c = EffectContext(parent, self.device, self.models)
        c.info = self.info
        return c


class Effect:
    """Base class for effects. Subclasses set the class attributes and ``process``."""

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    category: ClassVar[str] = "Effect"
    params: ClassVar[tuple[Param, ...]] = ()
    needs_model: ClassVar[bool] = False
    models: ClassVar[tuple[ModelSpec, ...]] = ()
    uses_gpu: ClassVar[bool] = False
    native_rate: ClassVar[int | None] = None
    latency: ClassVar[int] = 0  # frames at native_rate; process() must already compensate it
    chunk_seconds: ClassVar[float | None] = 60.0
    overlap_seconds: ClassVar[float] = 1.0
    outputs: ClassVar[tuple[str, ...]] = ()  # non-empty: process returns {name: audio}
    changes_length: ClassVar[bool] = False  # True: output length differs from input (extend); needs chunk_seconds=None
    preview_seconds: ClassVar[float] = 6.0
    licence: ClassVar[str] = ""

    # -- parameters -------------------------------------------------------------
    @classmethod
    def param(cls, name: str) -> Param:
        for p in cls.params:
            if p.name == name:
                return p
        raise EffectError(f"effect {cls.id!r} has no parameter {name!r}; it has: "
                          + ", ".join(p.name for p in cls.params))

    @classmethod
    def resolve_params(cls, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each validated."""
        out = {p.name: p.default for p in cls.params}
        for k, v in (values or {}).items():
            out[k] = cls.param(k).coerce(v)
        return out

    def required_models(self, params: dict[str, Any]) -> tuple[ModelSpec, ...]:
        """Models this run will need (default: all declared, if ``needs_model``)."""
        return self.models if self.needs_model else ()

    def memory_scales_with_window(self, params: dict[str, Any]) -> bool:
        """Whether a shorter window needs less device memory. False for models that work
        in fixed segments whatever the window (HTDemucs): after a GPU out-of-memory
        error the runner then moves to the CPU at once instead of retrying smaller windows."""
        return True

    def describe_run(self, params: dict[str, Any]) -> str:
        """Short label for history entries: the title and non-default parameters."""
        changed = [f"{p.name}={params[p.name]}" for p in self.params
                   if p.name in params and params[p.name] != p.default]
        return f"{self.title} ({', '.join(changed)})" if changed else self.title

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray | dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError


@dataclass
class EffectResult:
    """What a run produced, plus the provenance the history records."""

    audio: Any  # AudioSeq, or dict of AudioSeq for multi-output effects
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
