"""In-memory audio: blocks held in RAM, for scratch projects (previews, auditions).

Their blocks are never written to the store, drawn or saved; a preview built from
them is cheap enough to rebuild on every slider move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .blocks import Backing, Block
from .sequence import AudioSeq


class ArrayBacking(Backing):
    """A block backing over a planar float32 array in memory."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def read(self, start: int, stop: int) -> np.ndarray:
        return self._data[:, start:stop]

    def describe(self) -> dict[str, Any]:
        return {"kind": "memory"}


def memory_seq(data: np.ndarray) -> AudioSeq:
    """A planar (channels, frames) array as an AudioSeq without touching the block store."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    if data.shape[1] == 0:
        return AudioSeq.empty(data.shape[0])
    return AudioSeq.from_blocks([Block(data.shape[0], data.shape[1], ArrayBacking(data), None)], data.shape[0])
