"""Model weights that plugins ship inside their package, as Effects > Models shows them.

A plugin lists each model it ships in its manifest's ``[[models]]`` table with a
``shipped`` note, its ``files`` (paths inside the plugin's folder; a description
may follow the path after a space), their ``sha256``, a ``model_card`` and a
``licence``. Files that are not in the plugin's folder (weights another package
bundles, or downloads) are left to the model manager.

Everything shown is read from the files themselves when asked, so it stays true
when the weights are re-exported: the SHA-256 is computed from the file (the
manifest's value is only checked against it), and the training step and commit
come from the safetensors header's metadata (no tensor is read, nothing is
unpickled). No Qt and no plugin code is imported here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plugins import Plugins


@dataclass(frozen=True)
class ShippedModel:
    """One weights file a plugin ships, with what is known of it."""

    plugin: str  # the plugin's title
    id: str
    title: str
    path: Path
    sha256: str  # of the file as it is now
    manifest_sha256: str  # what the manifest says ("" when it says nothing)
    size: int
    licence: str = ""
    card: Path | None = None  # the model card, when it is found
    step: int | None = None  # training step, from the weights' metadata
    training_commit: str = ""
    trained_by: str = ""

    @property
    def verified(self) -> bool:
        """The file is the one the manifest lists."""
        return bool(self.manifest_sha256) and self.sha256 == self.manifest_sha256

    def card_text(self) -> str:
        if self.card is None:
            return ""
        try:
            return self.card.read_text(encoding="utf-8")
        except OSError:
            return ""

    def provenance(self) -> str:
        """Training step and commit in words ("" when the weights do not record them)."""
        parts = []
        if self.step is not None:
            parts.append(f"step {self.step}")
        if self.training_commit:
            parts.append(f"training commit {self.training_commit[:12]}")
        return ", ".join(parts)


_sha: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of ``path`` (cached while its size and modification time stay the same)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _sha:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _sha[key] = h.hexdigest()
    return _sha[key]


def safetensors_metadata(path: Path) -> dict[str, str]:
    """The metadata in a safetensors file's header ({} for other files or an unreadable one)."""
    if path.suffix != ".safetensors":
        return {}
    try:
        from safetensors import safe_open

        with safe_open(str(path), "numpy") as fh:  # reads the header only
            meta = fh.metadata() or {}
    except Exception:  # noqa: BLE001 - a damaged file is shown without provenance, not an error
        return {}
    return {str(k): str(v) for k, v in meta.items()}


def _inside(folder: Path, relative: str) -> Path | None:
    """``relative`` under ``folder``, dropping leading parts it does not have there
    ("seedwave_plugins/fill/weights/x.md" is found as "weights/x.md")."""
    parts = Path(relative).parts
    for i in range(len(parts)):
        p = folder.joinpath(*parts[i:])
        if p.is_file():
            return p
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def shipped_models(found: Plugins) -> list[ShippedModel]:
    """Every weights file the installed plugins' manifests list as shipped and that is present."""
    out: list[ShippedModel] = []
    for man in sorted(found.manifests, key=lambda m: m.name):
        if not man.path:
            continue
        folder = Path(man.path).parent
        for entry in man.data.get("models", []):
            if not isinstance(entry, dict) or not entry.get("shipped"):
                continue
            files = _as_list(entry.get("files"))
            sums = _as_list(entry.get("sha256"))
            card = _inside(folder, str(entry.get("model_card", ""))) if entry.get("model_card") else None
            for i, name in enumerate(files):
                path = _inside(folder, name.split(" ")[0])
                if path is None:
                    continue  # bundled by another package (or missing): not ours to show here
                meta = safetensors_metadata(path)
                step = meta.get("step", "")
                out.append(ShippedModel(
                    plugin=man.title, id=str(entry.get("id", "")), title=str(entry.get("title", entry.get("id", ""))),
                    path=path, sha256=file_sha256(path), manifest_sha256=sums[i].lower() if i < len(sums) else "",
                    size=path.stat().st_size, licence=str(entry.get("licence", "")), card=card,
                    step=int(step) if step.isdigit() else None, training_commit=meta.get("training_commit", ""),
                    trained_by=meta.get("trained_by", "")))
    return out
