"""Running insert chains block by block, with their state carried across blocks.

The engine knows effects only through a *processor factory*: a callable that
turns a :class:`~editor.core.chain.ChainStep` into a :class:`StepProcessor` for a
sample rate. The effect layer provides it (:mod:`editor.effects.live`, which
installs itself with :func:`install_factory` when ``editor.effects`` is
imported), so the engine never imports effects or plugins.

A processor is stateful: feeding it a signal in one piece or in blocks of any
size gives the same output. It reports its latency in frames (a lookahead
limiter, for example); the renderer reads each track that many frames ahead so
every track stays aligned (see :class:`ChainRunner` and
:class:`~editor.engine.renderer.Renderer`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..core.chain import Chain, ChainStep
from ..core.errors import SeedwaveError


class InsertError(SeedwaveError):
    """An insert effect cannot run (unknown effect, no streaming support, bad parameters)."""


class StepProcessor(Protocol):
    """One running effect of a chain."""

    latency: int  # frames of delay the effect adds (its output lags its input)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Process the next block: planar float32 (2, n) in, (2, n) out; keeps state."""
        ...

    def update(self, step: ChainStep) -> bool:
        """Take new parameters in place, keeping the state; False if it must be rebuilt."""
        ...

    def reset(self) -> None:
        """Forget all state (tails, envelopes), as after a seek."""
        ...


ProcessorFactory = Callable[[ChainStep, int], StepProcessor]

_factory: ProcessorFactory | None = None


def install_factory(factory: ProcessorFactory | None) -> None:
    """Make ``factory`` the default way the renderer builds insert processors."""
    global _factory
    _factory = factory


def installed_factory() -> ProcessorFactory | None:
    return _factory


class _Delay:
    """A delay line of ``frames`` frames for the dry path of a step with latency."""

    def __init__(self, frames: int, channels: int = 2) -> None:
        self.frames = frames
        self.buf = np.zeros((channels, frames), np.float32)

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.frames == 0:
            return x
        joined = np.concatenate([self.buf, x], axis=1)
        self.buf = joined[:, -self.frames :].copy()
        return joined[:, : x.shape[1]]

    def reset(self) -> None:
        self.buf[...] = 0.0


class _Slot:
    """A step with its processor and the dry-path delay for its wet/dry mix."""

    def __init__(self, step: ChainStep, proc: StepProcessor) -> None:
        self.step = step
        self.proc = proc
        self.dry = _Delay(max(0, int(proc.latency)))

    @property
    def latency(self) -> int:
        return max(0, int(self.proc.latency))

    def process(self, x: np.ndarray) -> np.ndarray:
        y = self.proc.process(x)
        if y.shape != x.shape:
            raise InsertError(f"insert effect {self.step.effect_id!r} changed the block shape "
                              f"from {x.shape} to {y.shape}")
        wet = self.step.wet
        if wet >= 1.0:
            return y
        d = self.dry.process(x)
        return (np.float32(wet) * y + np.float32(1.0 - wet) * d).astype(np.float32, copy=False)

    def reset(self) -> None:
        self.proc.reset()
        self.dry.reset()


class ChainRunner:
    """A chain's processors, fed in order, keeping their state across blocks.

    :meth:`set_chain` takes an edited chain while playing: steps that stay get
    their new parameters in place (state kept), new steps are built, removed
    ones dropped. Only active steps (not bypassed, wet above 0) process audio.

    ``next_in`` is the timeline frame of the input the runner expects next;
    the renderer compares it with what it is about to feed to spot a jump.
    """

    def __init__(self, chain: Chain, sample_rate: int, factory: ProcessorFactory) -> None:
        self.sample_rate = sample_rate
        self.factory = factory
        self.chain = Chain()
        self.slots: list[_Slot] = []
        self._all: dict[str, _Slot] = {}
        self.next_in: int | None = None
        self.set_chain(chain)

    @property
    def latency(self) -> int:
        return sum(s.latency for s in self.slots)

    def set_chain(self, chain: Chain) -> None:
        if chain == self.chain:
            return
        keep: dict[str, _Slot] = {}
        for step in chain.active:
            slot = self._all.get(step.id)
            if slot is not None and slot.step.effect_id == step.effect_id:
                if slot.step.params != step.params and not slot.proc.update(step):
                    slot = _Slot(step, self._build(step))
                elif slot.latency != slot.dry.frames:
                    slot.dry = _Delay(slot.latency)
                slot.step = step
            else:
                slot = _Slot(step, self._build(step))
            keep[step.id] = slot
        self.slots = [keep[s.id] for s in chain.active]
        self._all = keep
        self.chain = chain

    def _build(self, step: ChainStep) -> StepProcessor:
        try:
            return self.factory(step, self.sample_rate)
        except SeedwaveError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken effect becomes one clear message
            raise InsertError(f"insert effect {step.effect_id!r} cannot start: {type(exc).__name__}: {exc}") from exc

    def process(self, x: np.ndarray) -> np.ndarray:
        for slot in self.slots:
            x = slot.process(x)
        return x

    def reset(self) -> None:
        for slot in self.slots:
            slot.reset()
        self.next_in = None
