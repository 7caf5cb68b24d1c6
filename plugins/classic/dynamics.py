"""Compressor, limiter and noise gate, on pedalboard."""

from __future__ import annotations

from typing import Any, ClassVar

from editor.effects.base import Param

from .board import BoardEffect


class CompressorEffect(BoardEffect):
    """Even out loud and quiet passages."""

    id: ClassVar[str] = "compressor"
    title: ClassVar[str] = "Compressor"
    category: ClassVar[str] = "Dynamics"
    description: ClassVar[str] = "Lower the level of loud passages above a threshold, then add make-up gain."
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Gentle": {"threshold": -18.0, "ratio": 2.0, "attack": 20.0, "release": 250.0, "makeup": 2.0},
        "Vocal": {"threshold": -24.0, "ratio": 4.0, "attack": 5.0, "release": 120.0, "makeup": 6.0},
        "Broadcast": {"threshold": -30.0, "ratio": 8.0, "attack": 2.0, "release": 80.0, "makeup": 10.0},
    }
    params: ClassVar[tuple[Param, ...]] = (
        Param("threshold", "float", -18.0, -60.0, 0.0, step=0.5, unit="dB", label="Threshold",
              help="level above which the compressor lowers the gain"),
        Param("ratio", "float", 4.0, 1.0, 20.0, step=0.1, unit=":1", label="Ratio",
              help="how strongly levels above the threshold are reduced (4 = 4 dB in, 1 dB out)"),
        Param("attack", "float", 10.0, 0.1, 200.0, step=0.1, unit="ms", label="Attack",
              help="how fast the compressor reacts to a loud sound"),
        Param("release", "float", 150.0, 5.0, 2000.0, step=1.0, unit="ms", label="Release",
              help="how fast the gain recovers after a loud sound"),
        Param("makeup", "float", 0.0, -12.0, 24.0, step=0.5, unit="dB", label="Make-up gain",
              help="gain added after compression"),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        out: list[Any] = [pedalboard.Compressor(threshold_db=params["threshold"], ratio=params["ratio"],
                                                attack_ms=params["attack"], release_ms=params["release"])]
        if params["makeup"] != 0.0:
            out.append(pedalboard.Gain(gain_db=params["makeup"]))
        return out


class LimiterEffect(BoardEffect):
    """A look-ahead brick-wall limiter: peaks never pass the ceiling."""

    id: ClassVar[str] = "limiter"
    title: ClassVar[str] = "Limiter"
    category: ClassVar[str] = "Dynamics"
    description: ClassVar[str] = ("Raise the level by the input gain and keep peaks under the ceiling "
                                  "(look-ahead, no make-up gain of its own).")
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Mastering (-1 dB ceiling)": {"input_gain": 4.0, "ceiling": -1.0, "true_peak": True},
        "Podcast (-2 dB ceiling)": {"input_gain": 6.0, "ceiling": -2.0, "release": 200.0},
    }
    params: ClassVar[tuple[Param, ...]] = (
        Param("input_gain", "float", 0.0, -12.0, 24.0, step=0.5, unit="dB", label="Input gain",
              help="gain before limiting; raise it to make the audio louder"),
        Param("ceiling", "float", -1.0, -24.0, 0.0, step=0.1, unit="dB", label="Ceiling",
              help="peaks are held at or below this level"),
        Param("release", "float", 100.0, 1.0, 1000.0, step=1.0, unit="ms", label="Release",
              help="how fast the gain recovers after a peak"),
        Param("lookahead", "float", 5.0, 0.5, 20.0, step=0.1, unit="ms", label="Look-ahead",
              help="how far ahead the limiter sees peaks coming (adds this much latency live)"),
        Param("true_peak", "bool", False, label="True peak",
              help="also catch peaks between samples (4x oversampled detection)"),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        out: list[Any] = []
        if params["input_gain"] != 0.0:
            out.append(pedalboard.Gain(gain_db=params["input_gain"]))
        out.append(pedalboard.BrickwallLimiter(ceiling_db=params["ceiling"], release_ms=params["release"],
                                               lookahead_ms=params["lookahead"], true_peak=params["true_peak"]))
        return out

    def board_latency(self, params: dict[str, Any], sample_rate: int) -> int:
        p = self.resolve_params(params)
        return int(round(p["lookahead"] * sample_rate / 1000.0))


class GateEffect(BoardEffect):
    """A noise gate: silence (or lower) the audio while it is below a threshold."""

    id: ClassVar[str] = "gate"
    title: ClassVar[str] = "Noise gate"
    category: ClassVar[str] = "Dynamics"
    description: ClassVar[str] = ("Lower the audio while it stays below a threshold "
                                  "(pauses, bleed, hiss between phrases).")
    params: ClassVar[tuple[Param, ...]] = (
        Param("threshold", "float", -45.0, -100.0, 0.0, step=0.5, unit="dB", label="Threshold",
              help="audio quieter than this is lowered"),
        Param("ratio", "float", 10.0, 1.0, 100.0, step=0.5, unit=":1", label="Ratio",
              help="how strongly audio below the threshold is lowered (low ratios act as an expander)"),
        Param("attack", "float", 1.0, 0.1, 100.0, step=0.1, unit="ms", label="Attack",
              help="how fast the gate opens"),
        Param("release", "float", 100.0, 5.0, 2000.0, step=1.0, unit="ms", label="Release",
              help="how fast the gate closes"),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        return [pedalboard.NoiseGate(threshold_db=params["threshold"], ratio=params["ratio"],
                                     attack_ms=params["attack"], release_ms=params["release"])]
