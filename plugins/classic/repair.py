"""The repair effects: de-click, de-clip, de-hum and noise reduction.

These hold only declarations and the calls into their DSP modules, which load
on first use (the registry imports this module at start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError, Param

from .board import clean


class DeclickEffect(Effect):
    """Find and repair clicks and crackle; leave clean audio as it was."""

    id: ClassVar[str] = "declick"
    title: ClassVar[str] = "De-click"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Find clicks and crackle by themselves and rebuild them from the audio around "
                                  "them (autoregressive interpolation). Clean audio is left untouched.")
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Vinyl crackle": {"sensitivity": 7.0, "max_width": 1.0},
        "Gentle (speech)": {"sensitivity": 3.0, "max_width": 1.5},
    }
    chunk_seconds: ClassVar[float | None] = 30.0
    overlap_seconds: ClassVar[float] = 0.25
    params: ClassVar[tuple[Param, ...]] = (
        Param("sensitivity", "float", 5.0, 1.0, 10.0, step=0.5, label="Sensitivity",
              help="higher finds quieter clicks, with more risk of touching sharp attacks"),
        Param("max_width", "float", 1.5, 0.1, 10.0, step=0.1, unit="ms", label="Longest click",
              help="disturbances longer than this are left alone (clicks and crackle last up to 1-2 ms)"),
    )

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .declick import declick

        audio = clean(audio, context, self.title)
        out, changed = declick(audio, sample_rate, params["sensitivity"], params["max_width"],
                               progress=lambda f: context.progress(f, self.title))
        context.info["declick_samples_repaired"] = context.info.get("declick_samples_repaired", 0) + changed
        return out


class DeclipEffect(Effect):
    """Rebuild clipped peaks; the clipping level is found automatically."""

    id: ClassVar[str] = "declip"
    title: ClassVar[str] = "De-clip"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Find where the audio was clipped (the level is found by itself) and rebuild the "
                                  "flattened peaks. Add headroom with Gain first, or keep the output gain below "
                                  "0 dB, so the rebuilt peaks fit.")
    chunk_seconds: ClassVar[float | None] = 20.0
    overlap_seconds: ClassVar[float] = 0.1
    params: ClassVar[tuple[Param, ...]] = (
        Param("tolerance", "float", 0.01, 0.0, 5.0, step=0.01, unit="%", label="Level tolerance",
              help="samples this close to the clipping level count as clipped "
                   "(raise it for audio converted after clipping)"),
        Param("output_gain", "float", -6.0, -24.0, 0.0, step=0.5, unit="dB", label="Output gain",
              help="gain after repair: rebuilt peaks go above the old clipping level and need headroom"),
    )

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .declip import declip

        audio = clean(audio, context, self.title)
        out, facts = declip(audio, tolerance=params["tolerance"] / 100.0,
                            progress=lambda f: context.progress(f, self.title))
        context.info.setdefault("declip", facts)
        gain = 10.0 ** (params["output_gain"] / 20.0)
        return out * np.float32(gain) if gain != 1.0 else out


class DehumEffect(Effect):
    """Detect mains hum (50 or 60 Hz and harmonics) and remove it."""

    id: ClassVar[str] = "dehum"
    title: ClassVar[str] = "De-hum"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Find mains hum by itself (50 or 60 Hz and its harmonics, at its exact frequency) "
                                  "and subtract it, leaving the rest of the sound alone.")
    chunk_seconds: ClassVar[float | None] = 60.0
    overlap_seconds: ClassVar[float] = 2.0
    params: ClassVar[tuple[Param, ...]] = (
        Param("mains", "choice", "auto", choices=("auto", "50", "60"),
              choice_labels=("Detect", "50 Hz", "60 Hz"), label="Mains frequency",
              help="auto finds whether the hum is 50 or 60 Hz"),
        Param("harmonics", "int", 40, 1, 80, label="Harmonics",
              help="the most harmonics to look for and remove"),
        Param("min_level", "float", 8.0, 3.0, 30.0, step=0.5, unit="dB", label="Detection threshold",
              help="a harmonic is removed when it stands this far above the sound around it"),
    )

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .dehum import dehum, detect

        audio = clean(audio, context, self.title)
        hum = detect(audio, sample_rate, params["min_level"], params["harmonics"],
                     mains=None if params["mains"] == "auto" else int(params["mains"]))
        if hum is None:
            context.warn(f"{self.title}: no mains hum found; the audio was left as it was")
            context.info.setdefault("dehum", "no hum found")
            return audio.copy()
        context.info.setdefault("dehum", {"mains": hum.mains, "base_hz": round(hum.base, 3),
                                          "harmonics": list(hum.harmonics)})
        return dehum(audio, sample_rate, hum, progress=lambda f: context.progress(f, self.title))


class NoiseReduceEffect(Effect):
    """Audacity-style noise reduction from a captured noise profile."""

    id: ClassVar[str] = "noisereduce"
    title: ClassVar[str] = "Noise reduction"
    category: ClassVar[str] = "Repair"
    description: ClassVar[str] = ("Select a stretch of noise only and capture its profile (Get noise profile), then "
                                  "reduce that noise in the selection (spectral gating, noisereduce).")
    chunk_seconds: ClassVar[float | None] = None  # the profile stretch may lie anywhere in the input
    licence: ClassVar[str] = "noisereduce: MIT"
    params: ClassVar[tuple[Param, ...]] = (
        Param("reduction", "float", 12.0, 0.0, 48.0, step=1.0, unit="dB", label="Noise reduction",
              help="how far the noise is lowered"),
        Param("sensitivity", "float", 1.5, 0.0, 6.0, step=0.1, label="Sensitivity",
              help="how far above the noise profile (in its standard deviations) sound counts as signal"),
        Param("freq_smoothing", "float", 100.0, 0.0, 4000.0, step=10.0, unit="Hz", label="Frequency smoothing",
              help="smooth the gate across frequencies (fewer musical-noise artefacts)"),
        Param("time_smoothing", "float", 50.0, 0.0, 1000.0, step=5.0, unit="ms", label="Time smoothing",
              help="smooth the gate over time"),
        Param("profile", "str", "", label="Noise profile",
              help="captured from a noise-only selection (Get noise profile)"),
        Param("profile_start", "float", 0.0, 0.0, 1e6, step=0.1, unit="s", label="Profile start",
              help="without a captured profile: start of a noise-only stretch, seconds into the audio"),
        Param("profile_end", "float", 0.0, 0.0, 1e6, step=0.1, unit="s", label="Profile end",
              help="end of that stretch (after its start)"),
        Param("noise_file", "str", "", label="Noise file",
              help="without a captured profile: an audio file of the noise alone"),
    )

    selection_params: ClassVar[tuple[str, ...]] = ("profile",)  # the form's "Use selection" fills it

    @classmethod
    def from_selection(cls, name: str, audio: np.ndarray, sample_rate: int) -> str:
        """The ``profile`` value from selected noise-only audio (the host form's "Use selection")."""
        from .noiseprofile import capture_profile

        if name != "profile":
            raise EffectError(f"{name} is not filled from the selection")
        return capture_profile(audio, sample_rate)

    def describe_run(self, params: dict[str, Any]) -> str:
        shown = {k: v for k, v in params.items() if k != "profile"}
        label = super().describe_run(shown)
        return label

    def resolve_profile(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any]):  # noqa: ANN201
        from .noiseprofile import NoiseProfile, capture_profile

        if params["profile"]:
            return NoiseProfile.decode(params["profile"]), "captured"
        if params["noise_file"]:
            from editor.core.audio_io import import_audio

            imp = import_audio(Path(params["noise_file"]))
            noise = imp.sequences[0].read(0, imp.sequences[0].frames)
            return NoiseProfile.decode(capture_profile(noise, imp.sample_rate)), f"file {params['noise_file']}"
        a, b = params["profile_start"], params["profile_end"]
        if b > a:
            i, j = int(round(a * sample_rate)), int(round(b * sample_rate))
            if j > audio.shape[1]:
                raise EffectError(f"profile_end: {b:g} s is past the end of the audio "
                                  f"({audio.shape[1] / sample_rate:.2f} s)")
            return NoiseProfile.decode(capture_profile(audio[:, i:j], sample_rate)), f"{a:g}-{b:g} s"
        raise EffectError("noise reduction needs a noise profile: select noise only and use Get noise profile, "
                          "or pass --set profile_start=S --set profile_end=E (seconds) or --set noise_file=PATH")

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .noiseprofile import reduce

        audio = clean(audio, context, self.title)
        profile, source = self.resolve_profile(audio, sample_rate, params)
        context.info.setdefault("noise_profile", source)
        context.progress(0.0, self.title)
        if params["reduction"] <= 0.0:
            return audio.copy()
        return reduce(audio, sample_rate, profile, params["reduction"], params["sensitivity"],
                      params["freq_smoothing"], params["time_smoothing"])
