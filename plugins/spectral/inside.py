"""Any effect inside a spectral selection: its output is blended into the region through the mask.

The effect runs on the stretch of audio the selection touches plus some context
each side (so that filters, denoisers and declickers settle); the STFT of its
output replaces the input's STFT inside the selection (soft mask as weights), and
only those frames are resynthesised: outside the selection the audio stays
bit-exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from editor.core.spectral_selection import SpectralSelection
from editor.core.spectral_stft import apply_tf_edit, frame_span, stft_frames
from editor.core.task import TaskContext
from editor.effects.base import EffectContext, EffectError

from .region import grid_for, region_mask

#: seconds of audio either side of the selection that the inner effect also sees.
CONTEXT_SECONDS = 2.0


def parse_effect_params(text: str) -> dict[str, str]:
    """``"name=value; name=value"`` (or JSON object) -> dict, for the ``effect_params`` parameter."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        import json

        try:
            d = json.loads(text)
        except ValueError as exc:
            raise EffectError(f"effect_params: not valid JSON ({exc})") from None
        return {str(k): str(v) for k, v in d.items()}
    out: dict[str, str] = {}
    for item in text.replace(",", ";").split(";"):
        if not item.strip():
            continue
        if "=" not in item:
            raise EffectError(f"effect_params expects name=value pairs separated by ';', got {item!r}")
        k, _, v = item.partition("=")
        out[k.strip()] = v.strip()
    return out


def apply_in_selection(audio: np.ndarray, rate: int, selection: SpectralSelection, effect_id: str,
                       params: dict[str, Any] | None = None, ctx: EffectContext | TaskContext | None = None,
                       context_seconds: float = CONTEXT_SECONDS) -> np.ndarray:
    """Run the registered effect ``effect_id`` and keep its output only inside ``selection``."""
    from editor.effects.registry import registry
    from editor.effects.runner import run_on_array

    x = np.asarray(audio, np.float32)
    reg = registry()
    try:
        effect = reg.get(effect_id)
    except Exception as exc:  # noqa: BLE001 - the registry's own message names the problem
        raise EffectError(f"effect {effect_id!r}: {exc}") from None
    if effect.outputs or effect.changes_length:
        raise EffectError(f"{effect.title} cannot run inside a selection (it does not return one audio "
                          "of the same length)")
    if getattr(effect, "id", "") in ("spectral-apply",):
        raise EffectError("spectral-apply cannot run inside itself")
    grid = grid_for(rate)
    k0, m = region_mask(selection, grid, x.shape[1])
    k1 = k0 + m.shape[0]
    a, b = frame_span(grid, k0, k1)
    pad = int(context_seconds * rate)
    s0, s1 = max(0, a - pad), min(x.shape[1], b + pad)
    parent = ctx if ctx is not None else TaskContext()
    device = getattr(ctx, "device", "cpu") if effect.uses_gpu else "cpu"
    res = run_on_array(effect, x[:, s0:s1], rate, dict(params or {}), device=device,
                       models=getattr(ctx, "models", None), parent=parent)
    processed = x.copy()
    processed[:, s0:s1] = np.asarray(res.audio, np.float32)
    if isinstance(ctx, EffectContext):
        ctx.info["inner_effect"] = {k: v for k, v in res.provenance.items() if k != "seconds"}
    X = stft_frames(x, grid, k0, k1)
    E = stft_frames(processed, grid, k0, k1)
    return apply_tf_edit(x, grid, k0, (E - X) * m[None])
