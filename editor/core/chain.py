"""Effect chains as data: an ordered list of effects with their parameters.

One type serves every place a chain appears: a track's or the master's insert
chain (heard live, saved in the project, rendered by export), a chain built in
the window and saved to a file, and a chain run by ``seedwave batch`` over many
files. A chain names effects by id; which code runs them is the effect layer's
business, so this module stays free of effects, Qt and I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .ids import new_id

ParamValue = float | int | bool | str


def _freeze(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, ParamValue], ...]:
    items = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, ParamValue]] = []
    for k, v in items:
        if not isinstance(k, str):
            raise TypeError(f"parameter names are strings, not {type(k).__name__}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"parameter {k!r} is not a finite number")
        if not isinstance(v, bool | int | float | str):
            raise TypeError(f"parameter {k!r} has an unsupported value type {type(v).__name__}")
        out.append((k, v))
    return tuple(sorted(out))


@dataclass(frozen=True)
class ChainStep:
    """One effect of a chain: its id, parameters, bypass and wet/dry mix."""

    effect_id: str
    params: tuple[tuple[str, ParamValue], ...] = ()
    bypass: bool = False
    wet: float = 1.0  # 0 = dry only, 1 = effect only
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if not self.effect_id:
            raise ValueError("a chain step names an effect")
        object.__setattr__(self, "params", _freeze(self.params))
        if not (isinstance(self.wet, int | float) and math.isfinite(self.wet) and 0.0 <= self.wet <= 1.0):
            raise ValueError(f"wet must be between 0 and 1, not {self.wet!r}")

    @classmethod
    def make(cls, effect_id: str, params: Mapping[str, Any] | None = None, **kw: Any) -> ChainStep:
        return cls(effect_id, _freeze(params or {}), **kw)

    @property
    def param_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def with_params(self, **changes: ParamValue) -> ChainStep:
        merged = {**self.param_dict, **changes}
        return replace(self, params=_freeze(merged))

    def with_(self, **changes: Any) -> ChainStep:
        return replace(self, **changes)

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict (project files, the recovery journal, chain files)."""
        return {"id": self.id, "effect": self.effect_id, "params": dict(self.params),
                "bypass": self.bypass, "wet": self.wet}

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> ChainStep:
        """The inverse of :meth:`to_data`; a malformed entry raises ValueError naming the problem."""
        if not isinstance(d, Mapping):
            raise ValueError(f"a chain step is an object, not {type(d).__name__}")
        effect = d.get("effect")
        if not isinstance(effect, str) or not effect:
            raise ValueError("a chain step has no effect id")
        params = d.get("params", {})
        if not isinstance(params, Mapping):
            raise ValueError(f"parameters of chain step {effect!r} are not an object")
        wet = d.get("wet", 1.0)
        if isinstance(wet, bool) or not isinstance(wet, int | float):
            raise ValueError(f"wet of chain step {effect!r} is not a number")
        try:
            return cls(effect, _freeze(params), bool(d.get("bypass", False)), float(wet),
                       str(d.get("id") or new_id()))
        except TypeError as exc:
            raise ValueError(f"chain step {effect!r}: {exc}") from None


@dataclass(frozen=True)
class Chain:
    """An ordered tuple of steps. Empty chains are the common case and cost nothing."""

    steps: tuple[ChainStep, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def active(self) -> tuple[ChainStep, ...]:
        """Steps that process audio (not bypassed, not fully dry)."""
        return tuple(s for s in self.steps if not s.bypass and s.wet > 0.0)

    def index(self, step_id: str) -> int:
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        raise KeyError(step_id)

    def added(self, step: ChainStep, at: int | None = None) -> Chain:
        steps = list(self.steps)
        steps.insert(len(steps) if at is None else max(0, min(at, len(steps))), step)
        return Chain(tuple(steps))

    def removed(self, step_id: str) -> Chain:
        return Chain(tuple(s for s in self.steps if s.id != step_id))

    def moved(self, step_id: str, to: int) -> Chain:
        i = self.index(step_id)
        steps = list(self.steps)
        step = steps.pop(i)
        steps.insert(max(0, min(to, len(steps))), step)
        return Chain(tuple(steps))

    def replaced(self, step: ChainStep) -> Chain:
        return Chain(tuple(step if s.id == step.id else s for s in self.steps))

    def step(self, step_id: str) -> ChainStep:
        return self.steps[self.index(step_id)]

    def to_data(self) -> list[dict[str, Any]]:
        return [s.to_data() for s in self.steps]

    @classmethod
    def from_data(cls, data: Any) -> Chain:
        if data is None:
            return cls()
        if not isinstance(data, list | tuple):
            raise ValueError(f"a chain is a list of steps, not {type(data).__name__}")
        steps = tuple(ChainStep.from_data(d) for d in data)
        if len({s.id for s in steps}) != len(steps):
            raise ValueError("two steps of a chain have the same id")
        return cls(steps)
