"""Provenance of processing steps (AI effects above all), kept in the project.

When an effect, a separation, a fill or a remix is applied, the history entry's
facts (model, checksums, parameters, seed, device, versions) become a
:class:`Step` of the project itself. Steps are part of the model snapshot, so
they are saved in the project file and in the recovery journal, come back on
reopen and after a crash, and leave with an undo of the step they describe.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Facts larger than this (JSON characters) are cut to the essentials.
MAX_FACTS = 64_000
#: Keys of a history entry's facts that mark it as a processing step worth recording.
STEP_KEYS = frozenset({"effect", "engine", "model", "model_sha256"})


@dataclass(frozen=True)
class Step:
    """One processing step: its label, when it ran, and its facts (as canonical JSON)."""

    label: str
    facts: str = "{}"

    @property
    def data(self) -> dict[str, Any]:
        try:
            out = json.loads(self.facts)
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}

    def to_data(self) -> dict[str, Any]:
        return {"label": self.label, **self.data}

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Step:
        facts = {k: v for k, v in d.items() if k != "label"}
        return cls(str(d.get("label", "")), _dump(facts))

    @classmethod
    def record(cls, label: str, facts: Mapping[str, Any]) -> Step:
        """A step for ``facts`` applied now, with the versions that ran it."""
        full = dict(facts)
        full.setdefault("applied_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        full.setdefault("versions", versions())
        return cls(label, _dump(full))


def is_step(facts: Mapping[str, Any] | None) -> bool:
    return bool(facts) and not STEP_KEYS.isdisjoint(facts)


def versions() -> dict[str, str]:
    from .. import __version__

    out = {"seedwave": __version__, "python": platform.python_version()}
    for name in ("numpy", "torch", "demucs", "pedalboard", "onnxruntime"):
        mod = sys.modules.get(name)
        v = getattr(mod, "__version__", None) if mod is not None else None
        if isinstance(v, str):
            out[name] = v
    return out


def _dump(facts: Mapping[str, Any]) -> str:
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    if len(text) > MAX_FACTS:
        keep = {k: facts[k] for k in ("effect", "engine", "model", "model_sha256", "device", "seed", "version")
                if k in facts}
        keep["truncated"] = True
        text = json.dumps(keep, sort_keys=True, separators=(",", ":"), default=str)
    return text
