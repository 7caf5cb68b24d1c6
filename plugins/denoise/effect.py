"""The Denoise effect: what it declares, and how a run goes.

This module stays light (the registry imports it at start-up to list effects);
the engines load their libraries only when ``process`` runs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from editor.effects.base import Effect, EffectContext, EffectError, Param

ENGINE_TITLES = {"dfn3": "DeepFilterNet3", "rnnoise": "RNNoise", "spectral": "spectral gating"}


def limit_gain(strength_db: float) -> float:
    """How much of the original signal is kept under the denoised one.

    ``strength_db`` is an attenuation limit: noise is lowered by at most that
    many dB. For DeepFilterNet this is exactly its own ``atten_lim`` (measured
    to 1e-7: the runtime blends enhanced and noisy spectra, and the STFT is
    linear), and it means the same for the other engines. 100 means no limit.
    """
    return 0.0 if strength_db >= 100.0 else float(10.0 ** (-strength_db / 20.0))


def unique_channels(audio: np.ndarray) -> tuple[list[int], list[int]]:
    """(channels to process, for each channel the index of its copy among them)."""
    unique: list[int] = []
    where: list[int] = []
    for c in range(audio.shape[0]):
        for k, u in enumerate(unique):
            if np.array_equal(audio[c], audio[u]):
                where.append(k)
                break
        else:
            where.append(len(unique))
            unique.append(c)
    return unique, where


def _linked_lags(mode: str, audio: np.ndarray, rate: int) -> list[int] | None:
    """The channels' delays when they are to be denoised linked, else None."""
    if mode == "independent":
        return None
    from .linked import COHERENCE, channel_lags

    lags, peak = channel_lags(audio, rate)
    return lags if mode == "linked" or peak >= COHERENCE else None


class DenoiseEffect(Effect):
    """Reduce background noise, by default with DeepFilterNet3 (weights ship with its package)."""

    id = "denoise"
    title = "Denoise"
    version = "1"
    category = "Repair"
    description = ("Reduce background noise: DeepFilterNet3 for speech (default), RNNoise (lighter), "
                   "or spectral gating for steady noise under music and other sounds.")
    params: ClassVar[tuple[Param, ...]] = (
        Param("engine", "choice", "dfn3", choices=tuple(ENGINE_TITLES), label="Engine",
              choice_labels=tuple(ENGINE_TITLES.values()),
              help="dfn3: DeepFilterNet3, best on speech; rnnoise: RNNoise, lighter, speech; "
                   "spectral: spectral gating, for steady noise under non-speech"),
        Param("stereo", "choice", "auto", choices=("auto", "linked", "independent"), label="Stereo",
              choice_labels=("Automatic", "Linked (one mask for all channels)", "Each channel on its own"),
              help="linked: one noise mask from the channels' sum, applied to every channel (half the "
                   "time of two channels, and the stereo image stays put); independent: each channel "
                   "denoised alone (for unrelated channels, e.g. two microphones on two talkers); "
                   "auto: linked when the channels carry the same scene"),
        Param("strength", "float", 30.0, min=0.0, max=100.0, step=1.0, unit="dB", label="Strength",
              help="how far the noise is lowered, at most (dB); lower values keep some ambience, 100 = no limit"),
    )
    needs_model = False  # the weights ship inside the engines' packages
    uses_gpu = False
    native_rate = 48000
    latency = 0  # compensated inside process
    # Long windows: fewer pauses between windows, when one core waits for the
    # other (a 5-minute stereo window is about 120 MB in and 120 MB out).
    chunk_seconds = 300.0
    overlap_seconds = 1.0
    licence = "DeepFilterNet3: MIT/Apache-2.0; RNNoise: BSD-3-Clause; noisereduce: MIT"

    def process(self, audio: np.ndarray, sample_rate: int, params: dict[str, Any],
                context: EffectContext) -> np.ndarray:
        from .engines import load_engine
        from .linked import denoise_linked
        from .segments import denoise

        if sample_rate != self.native_rate:
            raise EffectError(f"Denoise runs at {self.native_rate} Hz (got {sample_rate} Hz); "
                              "run it through the effect runner, which resamples")
        audio = np.asarray(audio, dtype=np.float32)
        if not np.isfinite(audio).all():
            context.warn("Denoise: the audio had invalid (NaN or infinite) samples; they were set to silence")
            audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
        engine = load_engine(params["engine"])
        context.info.update(engine.info)
        gain = limit_gain(params["strength"])
        if gain >= 1.0:
            return audio.copy()
        message = f"Denoise ({ENGINE_TITLES[engine.key]})"
        # Channels that are bit-identical copies (a mono recording saved as stereo)
        # are denoised once.
        unique, where = unique_channels(audio)
        progress = lambda f: context.progress(f, message)  # noqa: E731 - passed on to the segments
        lags = None
        if len(unique) > 1 and audio.shape[1] >= 4 * 960:
            lags = _linked_lags(params.get("stereo", "auto"), audio[unique], sample_rate)
        if lags is not None:
            context.info["stereo"] = "linked"
            wet = denoise_linked(engine, audio[unique], sample_rate, progress, lags)[where]
        else:
            wet = denoise(engine, audio[unique], sample_rate, progress)[where]
        if gain > 0.0:
            wet += gain * (audio - wet)
        return wet
