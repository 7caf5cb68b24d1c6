"""Editor commands of the classic plugin (called with the host; no Qt import here).

"Get Noise Profile" is Audacity's first step of noise reduction: it captures
the profile of the selected noise-only audio and keeps it as a preset of the
Noise reduction effect ("Captured noise profile"), then opens that effect, so
the user selects what to clean, picks the preset and applies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PRESET = "Captured noise profile"
MAX_SECONDS = 30.0  # a longer selection adds nothing to a steady noise's profile


def selected_audio(host: Any) -> tuple[np.ndarray, int]:
    """Planar audio of the selection on its first selected track (clips in range, joined)."""
    from editor.jobs.effect_job import parts_for_range

    sel = host.selection.current()
    project = host.document.project
    rate = project.sample_rate
    track_ids = sel.track_ids or tuple(t.id for t in project.tracks[:1])
    stop = min(sel.stop, sel.start + int(MAX_SECONDS * rate))
    parts = [p for p in parts_for_range(project, sel.start, stop, track_ids) if p.track_id == track_ids[0]]
    pieces = []
    for part in parts:
        _track, clip = project.find_clip(part.clip_id)
        pieces.append(clip.audio.read(part.start, part.stop))
    if not pieces:
        return np.zeros((1, 0), np.float32), rate
    channels = max(p.shape[0] for p in pieces)
    return np.concatenate([np.broadcast_to(p, (channels, p.shape[1])) for p in pieces], axis=1), rate


def get_noise_profile(host: Any) -> None:
    """Capture the noise profile of the selection and offer it in Noise reduction."""
    from editor.core.errors import SeedwaveError
    from editor.effects.presets import PresetStore
    from editor.effects.registry import registry

    from .noiseprofile import capture_profile

    audio, rate = selected_audio(host)
    try:
        profile = capture_profile(audio, rate)
        effect = registry().get("noisereduce")
        store = PresetStore()
        values = store.load(effect, PRESET)[0] if PRESET in store.names(effect.id) else {}
        store.save(effect, PRESET, {**values, "profile": profile})
    except SeedwaveError as exc:
        host.ui.error(f"Get noise profile: {exc}")
        return
    host.ui.message(f"Noise profile captured from {audio.shape[1] / rate:.2f} s: select the audio to clean and "
                    f"apply Noise reduction with the preset \u201c{PRESET}\u201d")
    host.effects.show("noisereduce")
