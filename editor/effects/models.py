"""The model manager: a per-user cache of model files, verified by full SHA-256.

Models come from three places:

* a download, when the user is online: progress, cancel, resume of a partial
  file (HTTP Range), then a SHA-256 check before the file is moved into place;
* "Import model file…" (or ``seedwave models import``): a file the user already
  has, copied into the cache while it is hashed, and moved into place only if
  the copy's SHA-256 is one the catalogue knows (no network);
* files shipped with Seedwave (``editor.resources/models``), found first.

Every catalogued file has its full 64-digit SHA-256. A short prefix (demucs
names its files ``<signature>-<8 hex digits>.th`` and checks only those 32
bits) is refused: a file crafted to match 32 bits takes minutes of CPU to
make. A ``.verified`` marker next to an installed file records its size,
times, inode and full hash; it is trusted only when all of them still match,
otherwise the file is hashed again. Loaders read a model through
:meth:`ModelManager.read_verified`, which hashes the very bytes it returns, so
a file swapped after the check is never loaded.

A missing model raises :class:`ModelMissingError` whose message says which
model, how big, and the ways to get it.
"""

from __future__ import annotations

import contextlib
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
_HEX = frozenset("0123456789abcdef")


def is_full_sha256(value: str) -> bool:
    """True for a full SHA-256 hex digest (64 hex digits)."""
    v = value.strip().lower()
    return len(v) == 64 and set(v) <= _HEX


def checksum_matches(expected: str, digest: str) -> bool:
    """True if ``digest`` equals ``expected``, which must be a full SHA-256 hex
    digest: a published prefix is not enough to trust a file."""
    return is_full_sha256(expected) and digest.strip().lower() == expected.strip().lower()


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
        name = model_name or spec.name.split(" (")[0]
        super().__init__(
            f"{who} {what}, which is not installed: {how}, "
            f"or use Effects > Import model file… with {', '.join(s.filename for s in specs)} "
            f"(command line: seedwave models import FILE --model {name})"
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

    @staticmethod
    def _stamp(path: Path, digest: str) -> dict:
        """What a ``.verified`` marker records: the file's identity and its full hash.
        Any write, copy or replacement changes the size, a time or the inode."""
        st = path.stat()
        return {"size": st.st_size, "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns, "inode": st.st_ino,
                "sha256": digest}

    def _write_marker(self, path: Path, digest: str) -> None:
        marker = self._verified_marker(path)
        tmp = marker.with_name(marker.name + ".tmp")
        tmp.write_text(json.dumps(self._stamp(path, digest)))
        os.replace(tmp, marker)

    def _marker_ok(self, path: Path, spec: ModelSpec) -> bool:
        try:
            recorded = json.loads(self._verified_marker(path).read_text())
        except (OSError, ValueError):
            return False
        return (isinstance(recorded, dict) and checksum_matches(spec.sha256, str(recorded.get("sha256", "")))
                and recorded == self._stamp(path, str(recorded["sha256"])))

    def is_installed(self, spec: ModelSpec) -> bool:
        return self.locate(spec) is not None

    def locate(self, spec: ModelSpec) -> Path | None:
        """The verified file for ``spec``, or None (also for a catalogue entry
        without a full SHA-256: such a file is never trusted)."""
        if not is_full_sha256(spec.sha256):
            return None
        bundled = self._bundled(spec)
        if bundled is not None:
            return bundled
        path = self.path_for(spec)
        if not path.is_file():
            return None
        if self._marker_ok(path, spec):
            return path
        self._verified_marker(path).unlink(missing_ok=True)
        digest = sha256_file(path)
        if not checksum_matches(spec.sha256, digest):
            return None
        self._write_marker(path, digest)
        return path

    def status(self, spec: ModelSpec, check: bool = False) -> str:
        """"installed", "not installed", "damaged" (a file is there but its hash is
        wrong) or "no checksum" (the catalogue lacks a full SHA-256). With
        ``check`` the file is hashed again even if its marker is valid."""
        if not is_full_sha256(spec.sha256):
            return "no checksum"
        path = self._bundled(spec) or self.path_for(spec)
        if not path.is_file():
            return "not installed"
        if check:
            self._verified_marker(path).unlink(missing_ok=True)
        return "installed" if self.locate(spec) is not None else "damaged"

    def read_verified(self, spec: ModelSpec) -> bytes:
        """The bytes of ``spec``'s file, hashed as they are returned: loaders use this,
        so a file changed or swapped after an earlier check is never loaded."""
        path = self.require(spec)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if not checksum_matches(spec.sha256, digest):
            self._verified_marker(path).unlink(missing_ok=True)
            raise ModelChecksumError(
                f"does not match the SHA-256 of {spec.name} ({digest[:12]}…, expected {spec.sha256[:12]}…); "
                "it was not loaded: import or download it again", path)
        return data

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
    def _install_verified(self, tmp: Path, spec: ModelSpec, digest: str) -> Path:
        """Move ``tmp`` (in the model folder, already hashed to ``digest``) into place."""
        if not checksum_matches(spec.sha256, digest):  # callers check first; never install unverified bytes
            tmp.unlink(missing_ok=True)
            raise ModelChecksumError(f"{spec.filename}: SHA-256 {digest[:12]}… is not {spec.name}'s")
        dest = self.path_for(spec)
        self._verified_marker(dest).unlink(missing_ok=True)
        os.replace(tmp, dest)
        self._write_marker(dest, digest)
        return dest

    def _copy_hashing(self, src: Path, ctx: TaskContext | None) -> tuple[Path, str]:
        """Copy ``src`` into the model folder under a temporary name, hashing the bytes
        as they are written: the digest is that of the copy, not of a file that could
        change between a check and a copy."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".import-{os.getpid()}-{os.urandom(4).hex()}.part"
        h = hashlib.sha256()
        size = max(1, src.stat().st_size)
        done = 0
        try:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while True:
                    if ctx is not None:
                        ctx.check()
                    block = fin.read(CHUNK)
                    if not block:
                        break
                    h.update(block)
                    fout.write(block)
                    done += len(block)
                    if ctx is not None:
                        ctx.progress(min(1.0, done / size), f"Verifying {src.name}")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, h.hexdigest()

    def import_file(self, src: Path, specs: list[ModelSpec] | tuple[ModelSpec, ...],
                    ctx: TaskContext | None = None, model_name: str = "") -> ModelSpec:
        """Install a local file as whichever of ``specs`` it is (by full SHA-256).

        The file is copied and hashed first; only a copy whose hash matches is moved
        into place, so a mismatch changes nothing in the model folder.
        """
        src = Path(src)
        if not src.is_file():
            raise SeedwaveError("no such file", src)
        had_folder = self.folder.is_dir()
        tmp, digest = self._copy_hashing(src, ctx)
        for spec in specs:
            if checksum_matches(spec.sha256, digest):
                self._install_verified(tmp, spec, digest)
                return spec
        tmp.unlink(missing_ok=True)
        if not had_folder:
            with contextlib.suppress(OSError):
                self.folder.rmdir()
        if model_name:
            names = ", ".join(s.filename for s in specs) or "none"
            raise ModelChecksumError(f"is not a file of the model {model_name!r} (SHA-256 {digest[:12]}…; "
                                     f"expected {names}); nothing was installed", src)
        names = ", ".join(s.filename for s in specs) or "none"
        raise ModelChecksumError(f"is not a model Seedwave knows (SHA-256 {digest[:12]}…); known files: {names}",
                                 src)

    def download(self, spec: ModelSpec, ctx: TaskContext | None = None, url: str | None = None,
                 timeout: float = 30.0) -> Path:
        """Fetch ``spec`` from its URL, resuming a partial download, and verify it."""
        url = url or spec.url
        if not is_full_sha256(spec.sha256):
            raise ModelChecksumError(f"model {spec.name!r} has no full SHA-256 in the catalogue; "
                                     "Seedwave does not install files it cannot verify")
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
        return self._install_verified(part, spec, digest)
