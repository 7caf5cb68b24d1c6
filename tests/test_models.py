"""The model manager: download (progress, cancel, resume), checksums, import, clear.

Downloads come from a real HTTP server on 127.0.0.1 (``ModelServer``, also used
by test_stems.py) that honours Range requests and can drop a connection midway.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import numpy as np
import pytest

from editor.core.errors import Cancelled, SeedwaveError
from editor.core.task import TaskContext
from editor.effects.base import ModelSpec
from editor.effects.models import ModelChecksumError, ModelManager, ModelMissingError, checksum_matches


class ModelServer:
    """Serves ``files`` (name -> bytes) over HTTP with Range support.

    ``drop_after[name] = n`` makes the next full request for ``name`` send the
    headers of the whole file, then only ``n`` bytes, then close the connection.
    ``requests`` records (path, Range header) of every GET.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.drop_after: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                name = self.path.lstrip("/")
                rng = self.headers.get("Range")
                owner.requests.append((name, rng))
                data = owner.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                drop = owner.drop_after.pop(name, None) if not rng else None
                if drop is not None:
                    self.wfile.write(body[:drop])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="model-server", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def _blob(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def _spec(name: str, data: bytes, url: str = "", prefix: int | None = None) -> ModelSpec:
    digest = hashlib.sha256(data).hexdigest()
    return ModelSpec(name=name, filename=f"{name}.bin", sha256=digest[:prefix] if prefix else digest,
                     size=len(data), url=url)


@pytest.fixture
def payload() -> bytes:
    return _blob(3 * (1 << 20) + 12345)  # a bit over 3 download chunks


@pytest.fixture
def manager(tmp_path) -> ModelManager:
    return ModelManager(tmp_path / "models")


def test_download_reports_progress_and_installs_verified_file(manager, payload):
    with ModelServer({"m.bin": payload}) as srv:
        spec = _spec("m", payload, srv.base + "m.bin")
        seen: list[float] = []
        path = manager.download(spec, TaskContext(lambda f, msg: seen.append(f)))
    assert path.read_bytes() == payload
    assert manager.is_installed(spec) and manager.require(spec) == path
    assert seen == sorted(seen) and len(seen) >= 4 and seen[-1] == pytest.approx(1.0)
    assert not list(manager.folder.glob("*.part"))


def test_cancel_keeps_partial_file_and_resume_fetches_only_the_rest(manager, payload):
    with ModelServer({"m.bin": payload}) as srv:
        spec = _spec("m", payload, srv.base + "m.bin")
        ctx = TaskContext(lambda f, msg: ctx.cancel())
        with pytest.raises(Cancelled):
            manager.download(spec, ctx)
        part = manager.folder / "m.bin.part"
        have = part.stat().st_size
        assert 0 < have < len(payload)
        assert not manager.is_installed(spec)
        manager.download(spec)
        assert srv.requests[-1] == ("m.bin", f"bytes={have}-")
    assert manager.require(spec).read_bytes() == payload


def test_dropped_connection_is_a_clear_error_and_the_next_download_resumes(manager, payload):
    with ModelServer({"m.bin": payload}) as srv:
        srv.drop_after["m.bin"] = 1_500_000
        spec = _spec("m", payload, srv.base + "m.bin")
        with pytest.raises(SeedwaveError, match="interrupted.*download again to resume"):
            manager.download(spec)
        assert (manager.folder / "m.bin.part").stat().st_size == 1_500_000
        manager.download(spec)
        assert srv.requests[-1] == ("m.bin", "bytes=1500000-")
    assert manager.require(spec).read_bytes() == payload


def test_checksum_mismatch_deletes_the_download(manager, payload):
    with ModelServer({"m.bin": payload}) as srv:
        wrong = ModelSpec("m", "m.bin", hashlib.sha256(b"something else").hexdigest(), url=srv.base + "m.bin")
        with pytest.raises(ModelChecksumError, match="wrong checksum.*deleted"):
            manager.download(wrong)
    assert not list(manager.folder.iterdir())
    assert not manager.is_installed(wrong)


def test_missing_url_and_unreachable_server_are_clear_errors(manager, payload):
    with pytest.raises(SeedwaveError, match="no download address"):
        manager.download(_spec("m", payload))
    with ModelServer({}) as srv, pytest.raises(SeedwaveError, match="HTTP 404"):
        manager.download(_spec("m", payload, srv.base + "nothing.bin"))


def test_published_sha256_prefix_is_verified(manager, payload, tmp_path):
    """Demucs publishes an 8-digit SHA-256 prefix in each file name; it is enough, a wrong one is not."""
    with ModelServer({"m.bin": payload}) as srv:
        spec = _spec("m", payload, srv.base + "m.bin", prefix=8)
        assert len(spec.sha256) == 8
        manager.download(spec)
    assert manager.is_installed(spec)
    digest = hashlib.sha256(payload).hexdigest()
    assert checksum_matches(digest[:8], digest) and checksum_matches(digest.upper(), digest)
    assert not checksum_matches(digest[:7], digest)  # too short to mean anything
    assert not checksum_matches("0" * 8, digest)


def test_import_file_recognises_the_model_by_checksum(manager, payload, tmp_path):
    src = tmp_path / "downloaded-elsewhere.bin"
    src.write_bytes(payload)
    other = _spec("other", b"x" * 100)
    spec = _spec("m", payload, prefix=8)
    assert manager.import_file(src, [other, spec]) == spec
    assert manager.require(spec).read_bytes() == payload
    assert src.exists()  # copied, not moved
    stranger = tmp_path / "stranger.bin"
    stranger.write_bytes(b"not a model")
    with pytest.raises(ModelChecksumError, match="not a model Seedwave knows"):
        manager.import_file(stranger, [other, spec])
    with pytest.raises(SeedwaveError, match="no such file"):
        manager.import_file(tmp_path / "absent.bin", [spec])


def test_a_corrupted_installed_file_is_no_longer_found(manager, payload, tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(payload)
    spec = _spec("m", payload)
    path = manager.require(manager.import_file(src, [spec]))
    assert json.loads(path.with_name("m.bin.verified").read_text())["sha256"] == spec.sha256
    path.write_bytes(payload[:-1] + b"\0")
    assert manager.locate(spec) is None
    with pytest.raises(ModelMissingError):
        manager.require(spec)


def test_size_and_clear(manager, payload, tmp_path):
    assert manager.size_on_disk() == 0
    src = tmp_path / "m.bin"
    src.write_bytes(payload)
    spec = _spec("m", payload)
    manager.import_file(src, [spec])
    assert manager.size_on_disk() >= len(payload)
    manager.clear()
    assert manager.size_on_disk() == 0 and not manager.is_installed(spec)


def test_missing_model_message_names_the_files_and_both_ways_to_get_them(manager):
    one = ModelSpec("htdemucs", "955717e8-8726e21a.th", "8726e21a", 84_141_911, url="https://example.invalid/x")
    with pytest.raises(ModelMissingError) as err:
        manager.require(one, "Separate stems")
    text = str(err.value)
    assert "Separate stems needs the model 'htdemucs' (84 MB)" in text
    assert "Effects > Models… when online" in text and "Import model file… with 955717e8-8726e21a.th" in text
    parts = [ModelSpec(f"bag part {i}", f"part{i}.th", f"{i:08d}", 10_000_000) for i in range(3)]
    with pytest.raises(ModelMissingError) as err:
        manager.require_all(parts, "Remix stems", model_name="bag")
    text = str(err.value)
    assert "the model 'bag' (3 files, 30 MB in all)" in text
    assert "part0.th, part1.th, part2.th" in text
    assert err.value.specs == tuple(parts)
