"""Reverb, delay and chorus, on pedalboard.

Their state reaches back further than the runner's usual one-second overlap
(reverb tails, echoes, the chorus LFO's phase), so reverb and delay cross-fade
chunks over a longer overlap and the chorus sees its whole input at once: a
chunk joined to the next with the LFO at another phase would be heard.
"""

from __future__ import annotations

from typing import Any, ClassVar

from editor.effects.base import Param

from .board import BoardEffect


def _mix(default: float) -> Param:
    return Param("mix", "float", default, 0.0, 100.0, step=1.0, unit="%", label="Mix",
                 help="0 = only the original, 100 = only the effect")


class ReverbEffect(BoardEffect):
    """Room reverb (Freeverb)."""

    id: ClassVar[str] = "reverb"
    title: ClassVar[str] = "Reverb"
    category: ClassVar[str] = "Space"
    description: ClassVar[str] = "Place the sound in a room, from a small booth to a large hall."
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Small room": {"room_size": 25.0, "damping": 60.0, "mix": 20.0},
        "Hall": {"room_size": 85.0, "damping": 40.0, "mix": 30.0},
    }
    overlap_seconds: ClassVar[float] = 8.0
    params: ClassVar[tuple[Param, ...]] = (
        Param("room_size", "float", 50.0, 0.0, 100.0, step=1.0, unit="%", label="Room size",
              help="larger rooms ring longer"),
        Param("damping", "float", 50.0, 0.0, 100.0, step=1.0, unit="%", label="Damping",
              help="how quickly high frequencies die away in the tail"),
        Param("width", "float", 100.0, 0.0, 100.0, step=1.0, unit="%", label="Stereo width",
              help="0 = mono tail, 100 = wide"),
        _mix(30.0),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        mix = params["mix"] / 100.0
        return [pedalboard.Reverb(room_size=params["room_size"] / 100.0, damping=params["damping"] / 100.0,
                                  wet_level=mix, dry_level=1.0 - mix, width=params["width"] / 100.0)]


class DelayEffect(BoardEffect):
    """Echo: the sound repeated after a delay, each repeat quieter."""

    id: ClassVar[str] = "delay"
    title: ClassVar[str] = "Delay"
    category: ClassVar[str] = "Space"
    description: ClassVar[str] = "Repeat the sound after a delay, with feedback for more echoes."
    factory_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "Slapback": {"time": 110.0, "feedback": 0.0, "mix": 25.0},
        "Long echo": {"time": 600.0, "feedback": 45.0, "mix": 30.0},
    }
    overlap_seconds: ClassVar[float] = 8.0
    params: ClassVar[tuple[Param, ...]] = (
        Param("time", "float", 350.0, 1.0, 5000.0, step=1.0, unit="ms", label="Delay time",
              help="time between the sound and its echo"),
        Param("feedback", "float", 35.0, 0.0, 95.0, step=1.0, unit="%", label="Feedback",
              help="how much of each echo is fed back for the next"),
        _mix(30.0),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        return [pedalboard.Delay(delay_seconds=params["time"] / 1000.0, feedback=params["feedback"] / 100.0,
                                 mix=params["mix"] / 100.0)]


class ChorusEffect(BoardEffect):
    """Chorus (and, with short delays and feedback, flanger)."""

    id: ClassVar[str] = "chorus"
    title: ClassVar[str] = "Chorus"
    category: ClassVar[str] = "Modulation"
    description: ClassVar[str] = "Thicken the sound with slowly modulated delayed copies."
    chunk_seconds: ClassVar[float | None] = None  # one pass: the LFO's phase must run on across the whole input
    params: ClassVar[tuple[Param, ...]] = (
        Param("rate", "float", 1.0, 0.01, 20.0, step=0.01, unit="Hz", label="Rate",
              help="speed of the modulation"),
        Param("depth", "float", 25.0, 0.0, 100.0, step=1.0, unit="%", label="Depth",
              help="amount of modulation"),
        Param("centre_delay", "float", 7.0, 1.0, 50.0, step=0.1, unit="ms", label="Centre delay",
              help="7-8 ms is a classic chorus; 1-3 ms with feedback is a flanger"),
        Param("feedback", "float", 0.0, -95.0, 95.0, step=1.0, unit="%", label="Feedback",
              help="more feedback gives a metallic, flanger-like sound"),
        _mix(50.0),
    )

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        import pedalboard

        return [pedalboard.Chorus(rate_hz=params["rate"], depth=params["depth"] / 100.0,
                                  centre_delay_ms=params["centre_delay"], feedback=params["feedback"] / 100.0,
                                  mix=params["mix"] / 100.0)]
