"""The model manager: download (progress, cancel, resume), checksums, import, clear.

Downloads come from a real HTTP server on 127.0.0.1 (``ModelServer``, also used
by test_stems.py) that honours Range requests and can drop a connection midway.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
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


def test_a_published_sha256_prefix_is_never_enough(manager, payload, tmp_path):
    """Demucs names its files with an 8-digit SHA-256 prefix; 32 bits can be matched by a crafted file
    in minutes, so a spec without the full digest installs nothing and finds nothing."""
    digest = hashlib.sha256(payload).hexdigest()
    assert checksum_matches(digest, digest) and checksum_matches(digest.upper(), digest)
    assert not checksum_matches(digest[:8], digest) and not checksum_matches(digest[:63], digest)
    with ModelServer({"m.bin": payload}) as srv:
        spec = _spec("m", payload, srv.base + "m.bin", prefix=8)
        with pytest.raises(ModelChecksumError, match="no full SHA-256"):
            manager.download(spec)
        assert srv.requests == []  # refused before anything was fetched
    src = tmp_path / "m.bin"
    src.write_bytes(payload)
    with pytest.raises(ModelChecksumError):
        manager.import_file(src, [spec])
    manager.folder.mkdir(parents=True, exist_ok=True)
    (manager.folder / "m.bin").write_bytes(payload)  # a file put there by hand
    assert manager.locate(spec) is None and manager.status(spec) == "no checksum"


def test_import_file_recognises_the_model_by_checksum(manager, payload, tmp_path):
    src = tmp_path / "downloaded-elsewhere.bin"
    src.write_bytes(payload)
    other = _spec("other", b"x" * 100)
    spec = _spec("m", payload)
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


def test_a_verified_marker_is_trusted_only_with_the_full_hash_and_loads_hash_again(manager, payload, tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(payload)
    spec = _spec("m", payload)
    path = manager.require(manager.import_file(src, [spec]))
    marker = path.with_name("m.bin.verified")
    stamp = json.loads(marker.read_text())
    assert stamp["sha256"] == hashlib.sha256(payload).hexdigest() and stamp["size"] == len(payload)
    # An old-style marker with only the 8-digit prefix is not trusted: the file is hashed again.
    marker.write_text(json.dumps({**stamp, "sha256": spec.sha256[:8]}))
    assert manager.locate(spec) == path and json.loads(marker.read_text()) == stamp
    # Same size, same times, forged marker: status may believe it, a load never does.
    bad = bytearray(payload)
    bad[1000] ^= 0xFF
    st = path.stat()
    path.write_bytes(bytes(bad))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    marker.write_text(json.dumps(ModelManager._stamp(path, stamp["sha256"])))
    with pytest.raises(ModelChecksumError, match="not loaded"):
        manager.read_verified(spec)
    assert manager.status(spec, check=True) == "damaged"
    path.write_bytes(payload)
    assert manager.read_verified(spec) == payload


def test_an_import_that_does_not_match_changes_nothing(manager, payload, tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(payload)
    spec = _spec("m", payload)
    manager.import_file(good, [spec])
    before = {p.name: p.read_bytes() for p in manager.folder.iterdir()}
    wrong = tmp_path / "m.bin"
    wrong.write_bytes(payload[:-1])
    with pytest.raises(ModelChecksumError, match="nothing was installed"):
        manager.import_file(wrong, [spec], model_name="m")
    assert {p.name: p.read_bytes() for p in manager.folder.iterdir()} == before
    fresh = ModelManager(tmp_path / "fresh")
    with pytest.raises(ModelChecksumError):
        fresh.import_file(wrong, [spec])
    assert not fresh.folder.exists()


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
    assert text.endswith("(command line: seedwave models import FILE --model htdemucs)")
    parts = [ModelSpec(f"bag part {i}", f"part{i}.th", f"{i:08d}", 10_000_000) for i in range(3)]
    with pytest.raises(ModelMissingError) as err:
        manager.require_all(parts, "Remix stems", model_name="bag")
    text = str(err.value)
    assert "the model 'bag' (3 files, 30 MB in all)" in text
    assert "part0.th, part1.th, part2.th" in text
    assert err.value.specs == tuple(parts)


# -- checkpoints that would run code ------------------------------------------------------------


class _Payload:
    """Unpickling this writes ``path``: what a malicious checkpoint would do instead."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').write('the checkpoint ran code')",))


def _evil_checkpoint(tmp_path) -> tuple[str, bytes, object]:
    """A demucs-style package whose pickle runs code; returns (official-style name, bytes, marker path)."""
    import io

    torch = pytest.importorskip("torch")
    htdemucs = pytest.importorskip("demucs.htdemucs")
    marker = tmp_path / "pwned.txt"
    package = {"klass": htdemucs.HTDemucs, "args": [], "kwargs": {"sources": ["vocals", "other"]},
               "state": {"w": torch.zeros(2)}, "training_args": _Payload(str(marker))}
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    return f"0badc0de-{hashlib.sha256(data).hexdigest()[:8]}.th", data, marker


def test_the_crafted_checkpoint_really_runs_code_when_fully_unpickled(tmp_path):
    """The control for the tests below: an unrestricted load (what demucs's own loader does) runs it."""
    import torch

    name, data, marker = _evil_checkpoint(tmp_path)
    path = tmp_path / name
    path.write_bytes(data)
    torch.load(str(path), map_location="cpu", weights_only=False)
    assert marker.read_text() == "the checkpoint ran code"


def test_a_checkpoint_that_would_run_code_is_never_run_by_import_or_load(tmp_path, monkeypatch, capsys):
    from seedwave_plugins.stems import api as stems_api
    from seedwave_plugins.stems.catalog import SeparationModel, demucs_file, register_model, unregister_model
    from seedwave_plugins.stems.demucs_engine import load_demucs

    from editor.cli import main as cli_main
    from editor.effects.base import EffectError

    name, data, marker = _evil_checkpoint(tmp_path)
    evil = tmp_path / name
    evil.write_bytes(data)
    monkeypatch.setenv("SEEDWAVE_MODELS", str(tmp_path / "models"))
    manager = ModelManager()

    # 1. Import as an official model: its hash is not the catalogue's; one line, nothing installed.
    assert cli_main(["models", "import", str(evil), "--model", "htdemucs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a file of the model 'htdemucs'" in err[0] and "nothing was installed" in err[0]
    assert not manager.folder.exists() and not marker.exists()

    # 2. Placed by hand under an official name (as a 32-bit prefix collision would be): never loaded.
    manager.folder.mkdir(parents=True)
    official = manager.folder / "955717e8-8726e21a.th"
    official.write_bytes(data)
    assert cli_main(["models", "verify"]) == 2
    assert "is damaged" in capsys.readouterr().err
    with pytest.raises(EffectError, match="does not match its SHA-256"):
        load_demucs([official])
    assert not marker.exists()

    # 3. Even when a catalogue entry names this very file's full hash (a custom model someone
    #    registered), the weights-only loader refuses the code and the payload never runs.
    spec = demucs_file("evil_model", name, len(data), hashlib.sha256(data).hexdigest(), url_base="http://127.0.0.1:9/")
    register_model(SeparationModel("evil_model", "Evil", "demucs", stems=("vocals", "other"), files=(spec,)))
    try:
        assert stems_api.import_model_file(evil, models=manager) == spec
        with pytest.raises(EffectError, match="cannot load the demucs checkpoint"):
            stems_api.separate(np.zeros((2, 44100), np.float32), 44100, "evil_model", models=manager)
        with pytest.raises(EffectError, match="cannot load the demucs checkpoint"):
            load_demucs([manager.path_for(spec)])
    finally:
        unregister_model("evil_model")
    assert not marker.exists()


def test_a_checkpoint_shaped_like_the_official_ones_loads_weights_only(tmp_path):
    """The official HTDemucs files hold the class, its arguments (the segment as a Fraction) and a
    half-precision state: exactly what the allowlist admits, so they load without full pickle."""
    import io
    from fractions import Fraction

    torch = pytest.importorskip("torch")
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state
    from seedwave_plugins.stems.demucs_engine import load_demucs

    torch.manual_seed(1)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=8, depth=4, t_layers=1, nfft=1024,
                     dconv_mode=0, segment=Fraction(39, 25))
    args, kwargs = model._init_args_kwargs
    buf = io.BytesIO()
    torch.save({"klass": HTDemucs, "args": args, "kwargs": kwargs, "state": get_state(model, None, half=True),
                "training_args": {"segment": 1.56, "dset": {"name": "musdb"}}}, buf)
    path = tmp_path / "0badc0de-00000000.th"
    path.write_bytes(buf.getvalue())
    loaded = load_demucs([path], sha256=[hashlib.sha256(buf.getvalue()).hexdigest()])
    assert isinstance(loaded, HTDemucs) and loaded.segment == Fraction(39, 25)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value.half().float())
