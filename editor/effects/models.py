"""The model manager: a per-user cache of model files, verified by SHA-256.

Models come from three places:

* a download, when the user is online: progress, cancel, resume of a partial
  file (HTTP Range), then a SHA-256 check before the file is moved into place;
* "Import model file…": a file the user already has, checked against the known
  checksums and copied in (no network);
* files shipped with Seedwave (``editor.resources/models``), found first.

A file is installed only once its checksum matches, so a half-downloaded or
corrupt file is never loaded. A missing model raises :class:`ModelMissingError`
whose message says which model, how big, and the two ways to get it.

A :class:`ModelSpec`'s ``sha256`` is the full hex digest, or a prefix of it (at
least 8 hex digits) where the publisher only gives a prefix: official Demucs
checkpoints are named ``<signature>-<sha256 prefix>.th`` and demucs itself (like
``torch.hub``) verifies just that prefix.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from ..core.errors import SeedwaveError
from ..core.store import cache_root
from ..core.task import TaskContext
from .base import ModelSpec

CHUNK = 1 << 20
MIN_PREFIX = 8


def checksum_matches(expected: str, digest: str) -> bool:
    """True if ``digest`` (a full SHA-256 hex digest) matches ``expected``: the
    full digest, or a published prefix of at least ``MIN_PREFIX`` hex digits."""
    expected = expected.strip().lower()
    if len(expected) < MIN_PREFIX:
        return False
    return digest.lower().startswith(expected)


class ModelMissingError(SeedwaveError):
    """An effect needs a model that is not installed."""

    def __init__(self, spec: ModelSpec, effect_title: str = "", more: Sequence[ModelSpec] = (),
                 model_name: str = "") -> None:
        specs = (spec, *more)
        total = sum(s.size for s in specs)
        who = f"{effect_title} needs" if effect_title else "This effect needs"
        how = "download it with Effects > Models…" + (" when online" if spec.url else "")
        if len(specs) == 1:
            size = f" ({spec.size / 1e6:.0f} MB)" if spec.size else ""
            what = f"the model {(model_name or spec.name)!r}{size}"
        else:
            size = f", {total / 1e6:.0f} MB in all" if total else ""
            what = f"the model {(model_name or spec.name)!r} ({len(specs)} files{size})"
        super().__init__(
            f"{who} {what}, which is not installed: {how}, "
            f"or use Effects > Import model file… with {', '.join(s.filename for s in specs)}"
        )
        self.spec = spec
        self.specs = specs


class ModelChecksumError(SeedwaveError):
    """A model file does not match its published SHA-256."""


def sha256_file(path: Path, ctx: TaskContext | None = None) -> str:
    h = hashlib.sha256()
    size = max(1, path.stat().st_size)
    done = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            h.update(block)
            done += len(block)
            if ctx is not None:
                ctx.progress(done / size, f"Verifying {path.name}")
    return h.hexdigest()


def default_model_dir() -> Path:
    env = os.environ.get("SEEDWAVE_MODELS")
    return Path(env) if env else cache_root() / "models"


class ModelManager:
    """Installed models in one folder, plus the ones Seedwave ships."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_model_dir()

    # -- queries ---------------------------------------------------------------
    def path_for(self, spec: ModelSpec) -> Path:
        return self.folder / spec.filename

    def _bundled(self, spec: ModelSpec) -> Path | None:
        try:
            p = resources.files("editor.resources").joinpath("models", spec.filename)
        except (ModuleNotFoundError, FileNotFoundError):
            return None
        p = Path(str(p))
        return p if p.is_file() else None

    def _verified_marker(self, path: Path) -> Path:
        return path.with_name(path.name + ".verified")

    def is_installed(self, spec: ModelSpec) -> bool:
        return self.locate(spec) is not None

    def locate(self, spec: ModelSpec) -> Path | None:
        """The verified file for ``spec``, or None."""
        bundled = self._bundled(spec)
        if bundled is not None:
            return bundled
        path = self.path_for(spec)
        if not path.is_file():
            return None
        marker = self._verified_marker(path)
        st = path.stat()
        stamp = {"size": st.st_size, "mtime": st.st_mtime_ns, "sha256": spec.sha256}
        try:
            if json.loads(marker.read_text()) == stamp:
                return path
        except (OSError, ValueError):
            pass
        if not checksum_matches(spec.sha256, sha256_file(path)):
            return None
        marker.write_text(json.dumps(stamp))
        return path

    def require(self, spec: ModelSpec, effect_title: str = "") -> Path:
        """The model's path, or :class:`ModelMissingError` with instructions."""
        path = self.locate(spec)
        if path is None:
            raise ModelMissingError(spec, effect_title)
        return path

    def require_all(self, specs: Sequence[ModelSpec], effect_title: str = "", model_name: str = "") -> list[Path]:
        """Paths of all ``specs`` (the files of one model), or one
        :class:`ModelMissingError` that names every missing file."""
        paths = [self.locate(s) for s in specs]
        missing = [s for s, p in zip(specs, paths, strict=True) if p is None]
        if missing:
            raise ModelMissingError(missing[0], effect_title, missing[1:], model_name)
        return [p for p in paths if p is not None]

    def size_on_disk(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def remove(self, spec: ModelSpec) -> bool:
        """Delete one downloaded or imported model file (bundled ones stay); True if one was there."""
        path = self.path_for(spec)
        found = path.is_file()
        for p in (path, self._verified_marker(path), path.with_name(path.name + ".part")):
            p.unlink(missing_ok=True)
        return found

    def clear(self) -> None:
        """Delete every downloaded or imported model (bundled ones stay)."""
        if self.folder.is_dir():
            shutil.rmtree(self.folder)

    # -- installing ---------------------------------------------------------------
    def _install(self, src: Path, spec: ModelSpec, move: bool) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.path_for(spec)
        tmp = dest.with_name(dest.name + ".installing")
        if move:
            os.replace(src, tmp)
        else:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        st = dest.stat()
        self._verified_marker(dest).write_text(
            json.dumps({"size": st.st_size, "mtime": st.st_mtime_ns, "sha256": spec.sha256}))
        return dest

    def import_file(self, src: Path, specs: list[ModelSpec] | tuple[ModelSpec, ...],
                    ctx: TaskContext | None = None) -> ModelSpec:
        """Install a local file as whichever known model it is (by checksum)."""
        src = Path(src)
        if not src.is_file():
            raise SeedwaveError("no such file", src)
        digest = sha256_file(src, ctx)
        for spec in specs:
            if checksum_matches(spec.sha256, digest):
                self._install(src, spec, move=False)
                return spec
        names = ", ".join(s.filename for s in specs) or "none"
        raise ModelChecksumError(f"is not a model Seedwave knows (SHA-256 {digest[:12]}…); known files: {names}",
                                 src)

    def download(self, spec: ModelSpec, ctx: TaskContext | None = None, url: str | None = None,
                 timeout: float = 30.0) -> Path:
        """Fetch ``spec`` from its URL, resuming a partial download, and verify it."""
        url = url or spec.url
        if not url:
            raise SeedwaveError(f"model {spec.name!r} has no download address; import the file instead")
        ctx = ctx or TaskContext()
        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.path_for(spec).with_name(spec.filename + ".part")
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"User-Agent": "seedwave"})
        if have:
            req.add_header("Range", f"bytes={have}-")
        try:
            resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - model URLs are https/http
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # already complete
                resp = None
            else:
                raise SeedwaveError(f"download of {spec.name} failed: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SeedwaveError(
                f"cannot download {spec.name} ({reason}); check the connection, or import the file "
                f"{spec.filename} with Effects > Import model file…"
            ) from None
        if resp is not None:
            with resp:
                if have and resp.status != 206:
                    have = 0  # server ignored the range: start again
                length = resp.headers.get("Content-Length")
                expected = have + int(length) if length else None
                total = expected or spec.size or 0
                with open(part, "ab" if have else "wb") as fh:
                    done = have
                    while True:
                        ctx.check()
                        try:
                            block = resp.read(CHUNK)
                        except (http.client.HTTPException, OSError) as exc:
                            # The .part file stays: the next download resumes from it.
                            raise SeedwaveError(
                                f"the download of {spec.name} was interrupted after {done / 1e6:.1f} MB "
                                f"({type(exc).__name__}); download again to resume"
                            ) from None
                        if not block:
                            break
                        fh.write(block)
                        done += len(block)
                        ctx.progress(done / total if total else 0.0, f"Downloading {spec.name}")
                if expected is not None and done < expected:
                    # http.client returns a short body without an error when the
                    # connection drops; keep the .part file so the next try resumes.
                    raise SeedwaveError(
                        f"the download of {spec.name} was interrupted after {done / 1e6:.1f} of "
                        f"{expected / 1e6:.1f} MB; download again to resume"
                    )
        digest = sha256_file(part)
        if not checksum_matches(spec.sha256, digest):
            part.unlink(missing_ok=True)
            raise ModelChecksumError(
                f"downloaded file for {spec.name} has the wrong checksum ({digest[:12]}…, expected "
                f"{spec.sha256[:12]}…); it was deleted, try again"
            )
        return self._install(part, spec, move=True)
