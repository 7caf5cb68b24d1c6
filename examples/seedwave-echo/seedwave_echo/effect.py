"""The echo effect: a plain :class:`editor.effects.base.Effect` (no Qt, usable from the CLI)."""

from __future__ import annotations

from typing import Any

import numpy as np

from editor.effects.base import Effect, EffectContext, Param


class Echo(Effect):
    id = "example_echo"
    title = "Echo"
    description = "Repeats the sound after a delay, each repeat quieter (an example plugin)"
    category = "Delay"
    params = (
        Param("delay_ms", "float", 250.0, min=10.0, max=2000.0, step=10.0, unit="ms", help="Time between repeats"),
        Param("feedback", "float", 0.4, min=0.0, max=0.9, step=0.05, help="Level of each repeat"),
        Param("repeats", "int", 3, min=1, max=10, help="How many repeats"),
    )
    chunk_seconds = None  # the tail of one chunk belongs in the next: process the selection whole

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        delay = max(1, int(params["delay_ms"] * sample_rate / 1000))
        out = audio.astype(np.float32, copy=True)
        gain = 1.0
        for i in range(1, int(params["repeats"]) + 1):
            context.check()  # cancel takes effect between repeats
            gain *= float(params["feedback"])
            shift = i * delay
            if shift >= audio.shape[1]:
                break
            out[:, shift:] += np.float32(gain) * audio[:, : audio.shape[1] - shift]
            context.progress(i / int(params["repeats"]), "Echo")
        return out
