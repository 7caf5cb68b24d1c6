"""Classic effects in the real window: Get Noise Profile, then Noise reduction with it."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.effects.presets import PresetStore
from editor.effects.registry import registry

from .audiogen import noise

RATE = 48000


@pytest.mark.gui
def test_get_noise_profile_from_the_selection_feeds_noise_reduction(qtbot, window, store):
    from seedwave_plugins.classic.commands import PRESET
    from seedwave_plugins.classic.noiseprofile import NoiseProfile

    w = window
    bed = noise(2.0, RATE, 1, amp=0.02, seed=2)
    t = np.arange(RATE) / RATE
    x = bed.copy()
    x[:, RATE:] += (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    w.set_project(edits.add_track(Project(sample_rate=RATE), "Voice",
                                  (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),)))
    action = next(a for a in w.menus["Effects"].actions() if a.text().replace("&", "") == "Get Noise Profile")
    w.host.selection.set(0, RATE // 2, (w.project.tracks[0].id,))
    assert action.isEnabled()
    action.trigger()
    effect = registry().get("noisereduce")
    values, notes = PresetStore().load(effect, PRESET)
    assert not notes
    profile = NoiseProfile.decode(values["profile"])
    assert profile.sample_rate == RATE
    # the captured profile is the noise bed's: applying it lowers that noise and keeps the tone
    from editor.effects.runner import run_on_array

    out = run_on_array(effect, x, RATE, {**values, "reduction": 24.0}).audio
    quiet = slice(RATE // 2, RATE)
    assert 20 * np.log10(np.std(x[:, quiet]) / np.std(out[:, quiet])) > 15
    assert w.project.tracks[0].clips[0].audio.read(0, 2 * RATE).tobytes() == x.tobytes()  # nothing applied yet
