"""Chain files: an effect chain saved as a small, readable, versioned JSON file.

A chain file (``*.swchain``) holds what a :class:`~editor.core.chain.Chain` holds
(effects by id, their parameters, bypass and wet/dry mix), plus a name and the
output format a batch run writes::

    {
      "seedwave_chain": 1,
      "name": "Podcast voice",
      "steps": [
        {"effect": "denoise", "params": {"strength": 20.0}},
        {"effect": "loudness", "params": {"lufs": -16.0, "true_peak": -1.0}}
      ],
      "output": {"format": "flac", "bits": 24}
    }

``loudness`` is the one step that is not an effect of the registry: loudness
normalisation to a LUFS target under a true-peak ceiling needs the whole signal
first. As the last step it is done while the output file is written (the
exporter's measure, gain and true-peak limiter passes); anywhere else it is
measured and applied on the audio in between.

The ``seedwave_chain`` number is the format version. A file from a newer
Seedwave is refused with a message that says so; older versions are upgraded on
load. Every problem with a file is one line naming the file (and the step).

Saved chains live in one folder (:func:`chains_dir`), next to the presets;
``seedwave chains`` lists them and the command line accepts a saved chain's
name, or any chain file's path, wherever it accepts an effect id.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.chain import Chain, ChainStep
from ..core.errors import SeedwaveError
from .base import Effect, EffectError, Param
from .registry import Registry, registry

FORMAT_VERSION = 1
SUFFIX = ".swchain"
LOUDNESS = "loudness"  # the normalisation step's id
OUTPUT_FORMATS = ("wav", "flac", "ogg", "opus", "mp3", "aiff")

#: The loudness step's parameters, described like an effect's so forms and
#: ``--set`` treat it the same way.
LOUDNESS_PARAMS: tuple[Param, ...] = (
    Param("lufs", "float", -16.0, min=-70.0, max=0.0, step=0.5, unit="LUFS", label="Loudness",
          help="integrated loudness to normalise to"),
    Param("true_peak", "float", -1.0, min=-30.0, max=0.0, step=0.1, unit="dBTP", label="True-peak ceiling",
          help="a lookahead limiter keeps true peaks under this"),
)

_SAFE = re.compile(r"[^\w .,()+-]+")


class ChainFileError(SeedwaveError):
    """A chain file cannot be read, or names effects or settings that do not exist."""


class LoudnessStep(Effect):
    """Describes the loudness step like an effect (for forms and parameter checks).

    The chain runner does the work itself (it needs the whole signal), so
    ``process`` is never called.
    """

    id = LOUDNESS
    title = "Loudness normalisation"
    version = "1"
    category = "Loudness"
    description = "Normalise to an integrated loudness (LUFS) under a true-peak ceiling (dBTP)."
    params = LOUDNESS_PARAMS
    chunk_seconds = None


@dataclass(frozen=True)
class OutputFormat:
    """What a batch run writes. ``None`` fields follow the input: the input's
    format where Seedwave can write it (else WAV), its rate, and mono stays mono."""

    format: str | None = None
    bits: int | str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    mp3_bitrate: int = 192

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)} (got {self.format!r})")
        if self.bits is not None and self.bits not in (16, 24, 32, "float"):
            raise ValueError(f"bits must be 16, 24, 32 or \"float\" (got {self.bits!r})")
        if self.channels is not None and self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2 (got {self.channels!r})")
        if self.sample_rate is not None and not (isinstance(self.sample_rate, int) and
                                                 8000 <= self.sample_rate <= 384000):
            raise ValueError(f"sample_rate must be a whole number of Hz from 8000 to 384000 (got {self.sample_rate!r})")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k in ("format", "bits", "sample_rate", "channels"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.mp3_bitrate != 192:
            d["mp3_bitrate"] = self.mp3_bitrate
        return d


@dataclass(frozen=True)
class ChainSpec:
    """A chain as a file holds it: the steps, a name, and the output format."""

    chain: Chain = field(default_factory=Chain)
    name: str = ""
    description: str = ""
    output: OutputFormat = field(default_factory=OutputFormat)

    @classmethod
    def single(cls, effect_id: str, params: Mapping[str, Any] | None = None) -> ChainSpec:
        """A one-effect chain (what ``seedwave batch denoise ...`` runs)."""
        return cls(Chain((ChainStep.make(effect_id, params or {}),)), name=effect_id)

    def with_output(self, **changes: Any) -> ChainSpec:
        return replace(self, output=replace(self.output, **changes))

    @property
    def title(self) -> str:
        return self.name or " → ".join(s.effect_id for s in self.chain.steps) or "empty chain"


@dataclass(frozen=True)
class ResolvedStep:
    """A step checked against the registry: its effect and its full, validated parameters."""

    step: ChainStep
    effect: Effect
    params: dict[str, Any]

    @property
    def is_loudness(self) -> bool:
        return self.step.effect_id == LOUDNESS


# --------------------------------------------------------------------------- JSON


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isinf(v):
        return "-inf" if v < 0 else "inf"
    return v


def to_dict(spec: ChainSpec) -> dict[str, Any]:
    """The file's content as plain data (what :func:`dumps` writes)."""
    steps = []
    for s in spec.chain.steps:
        d: dict[str, Any] = {"effect": s.effect_id, "params": {k: _jsonable(v) for k, v in s.params}}
        if s.bypass:
            d["bypass"] = True
        if s.wet != 1.0:
            d["wet"] = s.wet
        steps.append(d)
    doc: dict[str, Any] = {"seedwave_chain": FORMAT_VERSION, "name": spec.name}
    if spec.description:
        doc["description"] = spec.description
    doc["steps"] = steps
    out = spec.output.to_dict()
    if out:
        doc["output"] = out
    return doc


def dumps(spec: ChainSpec) -> str:
    return json.dumps(to_dict(spec), indent=2, ensure_ascii=False) + "\n"


def _upgrade(doc: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring an older file's content up to :data:`FORMAT_VERSION` (one step per version)."""
    # Version 1 is the first; later versions add their upgrade steps here.
    return doc


def from_dict(doc: Any, source: str | Path | None = None) -> ChainSpec:
    """Parse file content; raises :class:`ChainFileError` (one line naming ``source``)."""
    def bad(problem: str) -> ChainFileError:
        return ChainFileError(problem, source)

    if not isinstance(doc, dict) or "seedwave_chain" not in doc:
        raise bad("not a Seedwave chain file (no \"seedwave_chain\" version)")
    version = doc["seedwave_chain"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"bad chain file version {version!r}")
    if version > FORMAT_VERSION:
        raise bad(f"written by a newer Seedwave (chain format {version}; this version reads up to "
                  f"{FORMAT_VERSION}); update Seedwave to use it")
    doc = _upgrade(doc, version)
    steps_raw = doc.get("steps", [])
    if not isinstance(steps_raw, list):
        raise bad("\"steps\" must be a list")
    steps: list[ChainStep] = []
    for i, raw in enumerate(steps_raw, 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("effect"), str) or not raw["effect"]:
            raise bad(f"step {i}: needs an \"effect\" id")
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise bad(f"step {i} ({raw['effect']}): \"params\" must be an object")
        # Infinite values are kept as the text "inf"/"-inf"; the effect's parameter check reads them.
        if not isinstance(raw.get("bypass", False), bool):
            raise bad(f"step {i} ({raw['effect']}): \"bypass\" must be true or false")
        try:
            steps.append(ChainStep.make(raw["effect"], params, bypass=raw.get("bypass", False),
                                        wet=raw.get("wet", 1.0)))
        except (TypeError, ValueError) as exc:
            raise bad(f"step {i} ({raw['effect']}): {exc}") from None
    out_raw = doc.get("output", {}) or {}
    if not isinstance(out_raw, dict):
        raise bad("\"output\" must be an object")
    unknown = set(out_raw) - {"format", "bits", "sample_rate", "channels", "mp3_bitrate"}
    if unknown:
        raise bad(f"\"output\" has unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        output = OutputFormat(**out_raw)
    except (TypeError, ValueError) as exc:
        raise bad(f"output: {exc}") from None
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise bad("\"name\" must be text")
    return ChainSpec(Chain(tuple(steps)), name, str(doc.get("description", "")), output)


def loads(text: str, source: str | Path | None = None) -> ChainSpec:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ChainFileError(f"not a readable chain file (JSON error: {exc})", source) from None
    return from_dict(doc, source)


def load_chain(path: str | Path) -> ChainSpec:
    """Read a chain file; raises :class:`ChainFileError` with one line naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChainFileError("no such chain file", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainFileError(f"cannot read the chain file ({getattr(exc, 'strerror', None) or exc})", path) from None
    spec = loads(text, path)
    if not spec.name:
        spec = replace(spec, name=path.stem)
    return spec


def save_chain(spec: ChainSpec, path: str | Path) -> Path:
    """Write ``spec`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(dumps(spec), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ChainFileError(f"cannot save the chain ({exc.strerror or exc})", path) from None
    return path


# --------------------------------------------------------------------------- checking against the registry


def effect_for(effect_id: str, reg: Registry | None = None) -> Effect:
    if effect_id == LOUDNESS:
        return LoudnessStep()
    return (reg or registry()).get(effect_id)


def resolve(spec: ChainSpec, reg: Registry | None = None, source: str | Path | None = None) -> list[ResolvedStep]:
    """Check every step against the registry and fill in defaults.

    Raises :class:`ChainFileError` naming the step for an unknown effect, an
    unknown parameter, a bad value or an effect a chain cannot hold.
    """
    out: list[ResolvedStep] = []
    for i, step in enumerate(spec.chain.steps, 1):
        try:
            effect = effect_for(step.effect_id, reg)
            params = effect.resolve_params(step.param_dict)
        except EffectError as exc:
            raise ChainFileError(f"step {i} ({step.effect_id}): {exc}", source) from None
        if effect.outputs:
            raise ChainFileError(f"step {i} ({step.effect_id}): {effect.title} makes several outputs "
                                 f"({', '.join(effect.outputs)}); a chain passes one signal from step to step",
                                 source)
        out.append(ResolvedStep(step, effect, params))
    return out


def digest(spec: ChainSpec, steps: list[ResolvedStep]) -> str:
    """A hash of everything that shapes the output: each active step's effect,
    its version and full parameters, wet mix, and the output format. Names,
    descriptions and defaults spelt out or left implicit do not change it."""
    data = {
        "steps": [{"effect": r.step.effect_id, "version": r.effect.version,
                   "params": {k: _jsonable(v) for k, v in sorted(r.params.items())}, "wet": r.step.wet}
                  for r in steps if not r.step.bypass and r.step.wet > 0.0],
        "output": spec.output.to_dict(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def with_overrides(spec: ChainSpec, values: Mapping[str, str], reg: Registry | None = None) -> ChainSpec:
    """``--set`` values applied to a chain.

    A name is ``param`` (the one step that has that parameter), ``effect.param``
    (the one step of that effect) or ``N.param`` (step N, counting from 1).
    """
    steps = list(spec.chain.steps)
    for key, value in values.items():
        target, _, pname = key.rpartition(".")
        if target.isdigit():
            idx = [int(target) - 1] if 1 <= int(target) <= len(steps) else []
            if not idx:
                raise ChainFileError(f"--set {key}: the chain has steps 1 to {len(steps)}")
        else:
            idx = [i for i, s in enumerate(steps) if (not target or s.effect_id == target)
                   and any(p.name == pname for p in effect_for(s.effect_id, reg).params)]
            if not idx:
                raise ChainFileError(f"--set {key}: no step of the chain has a parameter {pname!r}"
                                     + (f" (is {target!r} in the chain?)" if target else ""))
            if len(idx) > 1:
                raise ChainFileError(f"--set {key}: steps {', '.join(str(i + 1) for i in idx)} all have "
                                     f"{pname!r}; write N.{pname}=... to pick step N")
        i = idx[0]
        steps[i] = steps[i].with_params(**{pname: value})
    return replace(spec, chain=Chain(tuple(steps)))


# --------------------------------------------------------------------------- track inserts


def spec_from_inserts(chain: Chain, name: str, output: OutputFormat | None = None) -> ChainSpec:
    """A track's (or the master's) insert chain as a chain to save ("save chain")."""
    return ChainSpec(chain, name=name, output=output or OutputFormat())


def chain_for_inserts(spec: ChainSpec) -> tuple[Chain, list[str]]:
    """The steps of a saved chain that can be heard live as track inserts, with new
    step ids, and a note for each left out (loudness needs the whole signal)."""
    kept: list[ChainStep] = []
    notes: list[str] = []
    for i, s in enumerate(spec.chain.steps, 1):
        if s.effect_id == LOUDNESS:
            notes.append(f"step {i} (loudness) needs the whole signal; it is not an insert effect")
            continue
        kept.append(ChainStep.make(s.effect_id, s.param_dict, bypass=s.bypass, wet=s.wet))
    return Chain(tuple(kept)), notes


# --------------------------------------------------------------------------- the user's chains folder


def chains_dir() -> Path:
    """Where saved chains live: ``$SEEDWAVE_CHAINS``, else ``chains`` next to the
    settings file (``$SEEDWAVE_CONFIG``'s folder, else ``$XDG_CONFIG_HOME/Seedwave``)."""
    env = os.environ.get("SEEDWAVE_CHAINS")
    if env:
        return Path(env)
    cfg = os.environ.get("SEEDWAVE_CONFIG")
    if cfg:
        return Path(cfg).parent / "chains"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "Seedwave" / "chains"


def saved_chain_path(name: str, folder: Path | None = None) -> Path:
    """The file a chain called ``name`` is saved to in the chains folder."""
    clean = _SAFE.sub("_", name).strip(" .") or "chain"
    return (folder or chains_dir()) / f"{clean}{SUFFIX}"


def save_user_chain(spec: ChainSpec, name: str | None = None, folder: Path | None = None) -> Path:
    """Save ``spec`` in the chains folder under ``name`` (default: its own name)."""
    name = (name or spec.name).strip()
    if not name:
        raise ChainFileError("a saved chain needs a name")
    return save_chain(replace(spec, name=name), saved_chain_path(name, folder))


def list_saved_chains(folder: Path | None = None) -> list[tuple[Path, ChainSpec | ChainFileError]]:
    """Every chain file in the chains folder, by name; unreadable ones come with their error."""
    folder = folder or chains_dir()
    out: list[tuple[Path, ChainSpec | ChainFileError]] = []
    if not folder.is_dir():
        return out
    for p in sorted(folder.glob(f"*{SUFFIX}"), key=lambda q: q.stem.casefold()):
        try:
            out.append((p, load_chain(p)))
        except ChainFileError as exc:
            out.append((p, exc))
    return out


def looks_like_chain_file(arg: str) -> bool:
    return arg.endswith(SUFFIX) or os.sep in arg or (os.altsep is not None and os.altsep in arg)


def find_chain(arg: str, values: Mapping[str, str] | None = None,
               reg: Registry | None = None) -> tuple[ChainSpec, Path | None]:
    """What the command line means by ``arg``: a chain file's path, an effect id,
    or the name of a saved chain, in that order. ``values`` are ``--set`` values."""
    reg = reg or registry()
    values = dict(values or {})
    path: Path | None = None
    if looks_like_chain_file(arg) or (Path(arg).is_file() and arg not in reg.ids()):
        path = Path(arg)
        spec = load_chain(path)
    elif arg in reg.ids() or arg == LOUDNESS:
        effect = effect_for(arg, reg)
        try:
            spec = ChainSpec.single(arg, effect.resolve_params(values))
        except EffectError as exc:
            raise ChainFileError(str(exc)) from None
        values = {}
    else:
        saved = saved_chain_path(arg)
        if not saved.is_file():
            names = [p.stem for p, _ in list_saved_chains()]
            raise ChainFileError(f"{arg!r} is neither an effect (available: {', '.join(reg.ids()) or 'none'}) "
                                 f"nor a saved chain ({', '.join(names) or 'none saved'})")
        path = saved
        spec = load_chain(saved)
    if values:
        try:
            spec = with_overrides(spec, values, reg)
        except EffectError as exc:
            raise ChainFileError(str(exc), path) from None
    resolve(spec, reg, path)
    return spec, path
