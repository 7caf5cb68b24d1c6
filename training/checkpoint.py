"""Shared by the project's training scripts: checkpoints (loaded without pickle, resumed) and exported weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_checkpoint(path: Path) -> dict:
    """A training checkpoint, unpickled weights-only (tensors, numbers, and numpy scalars that
    early checkpoints stored as learning rates), on the CPU."""
    import torch

    safe = [np.dtype, np._core.multiarray.scalar, type(np.dtype(np.float64))]
    with torch.serialization.safe_globals(safe):
        return torch.load(path, weights_only=True, map_location="cpu")


def resume(path: Path, net, opt) -> int:
    """Restore ``net`` and ``opt`` from the checkpoint at ``path`` if there is one; the step reached (0 if none)."""
    if not path.exists():
        return 0
    state = load_checkpoint(path)
    net.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    step = int(state["step"])
    print(f"resumed at step {step}", flush=True)
    return step


def save_weights(net, path: Path, config: dict, step: int, trained_by: str, half: bool = False) -> tuple[str, str]:
    """Write ``net``'s weights as safetensors (config, step, training commit as metadata; float16 when
    ``half``). Returns ``(sha256, training commit)``."""
    import hashlib
    import json
    import subprocess

    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent).stdout.strip()
    except OSError:
        commit = ""
    meta = {"config": json.dumps(config), "step": str(step), "training_commit": commit, "trained_by": trained_by}
    state = {k: (v.detach().cpu().contiguous().half() if half else v.detach().cpu().contiguous().float())
             for k, v in net.state_dict().items()}
    save_file(state, str(path), metadata=meta)
    path.chmod(0o644)
    return hashlib.sha256(path.read_bytes()).hexdigest(), commit
