"""Undo history: a list of labelled project snapshots.

Snapshots share everything an edit did not change, so keeping many is cheap and
undo/redo only move an index. Consecutive changes of one control (a fader drag)
share a ``merge_key`` and collapse into one step. The history is capped by the
bytes of audio that only history holds (audio the current project no longer uses),
not by a number of steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import Project
from .provenance import Step, is_step

DEFAULT_LIMIT_BYTES = 8 << 30
MERGE_WINDOW_S = 2.0


@dataclass(frozen=True, eq=False)
class HistoryEntry:
    label: str
    project: Project
    merge_key: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic)
    _blocks: list = field(default_factory=list, repr=False)  # lazily filled cache
    # The view (selection, cursor) as the user had it: "before" when the edit was made,
    # "after" while this step was the current one. Opaque here: the GUI fills and reads it.
    view: dict[str, Any] = field(default_factory=dict, repr=False)

    def blocks(self) -> set:
        if not self._blocks:
            self._blocks.append(self.project.blocks())
        return self._blocks[0]


class History:
    """Undo/redo over project snapshots, with change listeners."""

    def __init__(self, project: Project, label: str = "Open", limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.entries: list[HistoryEntry] = [HistoryEntry(label, project)]
        self.index = 0
        self.limit_bytes = limit_bytes
        self.saved_index: int | None = 0
        self._listeners: list[Callable[[History], None]] = []
        self._held_key: str | None = None
        # Only a push straight after a push may merge: after undo, redo or jump the
        # current step is an older one, and a new change must be a new step.
        self._merge_open = False

    # -- observation ----------------------------------------------------------
    def subscribe(self, fn: Callable[[History], None]) -> None:
        self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[History], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn(self)

    # -- state ----------------------------------------------------------------
    @property
    def current(self) -> Project:
        return self.entries[self.index].project

    @property
    def entry(self) -> HistoryEntry:
        return self.entries[self.index]

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.entries) - 1

    @property
    def modified(self) -> bool:
        return self.saved_index != self.index

    def mark_saved(self) -> None:
        self.saved_index = self.index
        self._changed()

    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    # -- changes ----------------------------------------------------------------
    def push(self, project: Project, label: str, merge_key: str | None = None,
             meta: dict[str, Any] | None = None, view: Any = None) -> None:
        """Record ``project`` as the new current state.

        ``meta`` holding a processing step's facts (an effect, model or engine)
        also becomes a :class:`~editor.core.provenance.Step` of the project, so
        its provenance is saved with the project and the recovery journal.
        ``view`` (opaque: the selection the edit had) is kept with the step, so an
        undo can give it back."""
        if project is self.current:
            return
        if merge_key is None and is_step(meta):
            project = project.with_(steps=(*project.steps, Step.record(label, meta or {})))
        now = time.monotonic()
        cur = self.entries[self.index]
        del self.entries[self.index + 1 :]
        if self.saved_index is not None and self.saved_index > self.index:
            self.saved_index = None
        if (
            merge_key is not None
            and self._merge_open
            and self.index > 0
            and cur.merge_key == merge_key
            and (now - cur.time < MERGE_WINDOW_S or merge_key == self._held_key)
            and self.saved_index != self.index
        ):
            self.entries[self.index] = HistoryEntry(cur.label, project, merge_key, meta or cur.meta, now,
                                                    view=cur.view)
        else:
            self.entries.append(HistoryEntry(label, project, merge_key, meta or {}, now,
                                             view={} if view is None else {"before": view}))
            self.index += 1
        self._merge_open = True
        self._enforce_limit()
        self._changed()

    def hold_merge(self, merge_key: str) -> None:
        """A drag started: its changes (with ``merge_key``) make one step however
        long the user pauses, until :meth:`end_merge`."""
        self._held_key = merge_key

    def end_merge(self) -> None:
        """Stop merging into the current step (e.g. when a drag ends)."""
        self._held_key = None
        cur = self.entries[self.index]
        if cur.merge_key is not None:
            self.entries[self.index] = HistoryEntry(cur.label, cur.project, None, cur.meta, cur.time, view=cur.view)

    def undo(self) -> Project:
        self._merge_open = False
        if self.can_undo:
            self.index -= 1
            self._changed()
        return self.current

    def redo(self) -> Project:
        self._merge_open = False
        if self.can_redo:
            self.index += 1
            self._changed()
        return self.current

    def jump(self, index: int) -> Project:
        if not 0 <= index < len(self.entries):
            raise IndexError(index)
        self._merge_open = False
        if index != self.index:
            self.index = index
            self._changed()
        return self.current

    def reset(self, project: Project, label: str = "Open") -> None:
        self.entries = [HistoryEntry(label, project)]
        self.index = 0
        self.saved_index = 0
        self._merge_open = False
        self._changed()

    # -- memory cap -------------------------------------------------------------
    def history_only_bytes(self) -> int:
        """Bytes of audio blocks held by history entries but not by the current state."""
        current = self.entries[self.index].blocks()
        others: set = set()
        for i, e in enumerate(self.entries):
            if i != self.index:
                others |= e.blocks()
        return sum(b.nbytes for b in others - current)

    def _enforce_limit(self) -> None:
        while len(self.entries) > 1 and self.history_only_bytes() > self.limit_bytes:
            if self.index > 0:
                del self.entries[0]
                self.index -= 1
                if self.saved_index is not None:
                    self.saved_index = self.saved_index - 1 if self.saved_index > 0 else None
            else:
                del self.entries[-1]
