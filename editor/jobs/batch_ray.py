"""Batch on a Ray cluster: each file, or each chunk of a long file, is a Ray task.

``seedwave batch ... --ray ADDRESS`` connects to a running cluster
(``ray.init(address=ADDRESS)``; ``auto`` finds the local node's cluster). Before
any work a probe task runs on every node that has CPUs: it checks that the
inputs can be read and the output folder written there (the nodes must share
these paths, e.g. over NFS) and that Seedwave is installed (the task imports it).

Tasks ask Ray for one CPU each; a chain with a GPU effect asks for
``gpus_per_task`` GPUs when the cluster has any (otherwise its effects run on
the CPUs, which the run says). A task whose worker or node dies is retried
(``max_retries``) on another node. Tasks are idempotent: outputs and chunk files
appear only by atomic rename, so a retry, or a task that ran twice, leaves the
same files, and the driver records each input once.

A file longer than ``chunk_seconds`` (when every step of the chain works window
by window) becomes one task per chunk, each seeing some context on both sides,
plus one task that joins the chunks and writes the output (doing a final
loudness step there, on the whole signal).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import SeedwaveError
from .batch_plan import BatchItem, ItemResult
from .batch_worker import assemble, chunkable, probe_paths, process_chunk, process_item

if TYPE_CHECKING:
    from .batch import BatchRunner

PARTS_DIR = ".seedwave-parts"
PROBE_TIMEOUT_S = 120.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SeedwaveError("--ray needs Ray, which is not installed; install it with: "
                            "pip install 'seedwave[cluster]'") from None
    return ray


def _node() -> str:
    import socket

    import ray

    try:
        return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:8]}"
    except Exception:  # noqa: BLE001
        return socket.gethostname()


# Task bodies: module-level functions, so Ray imports this module on the workers.

def file_task(spec_json: str, src: str, out: str, device: str) -> dict[str, Any]:
    d = process_item(spec_json, src, out, device)
    d["node"] = _node()
    return d


def chunk_task(spec_json: str, src: str, start: int, stop: int, pad: int, part: str, device: str) -> dict[str, Any]:
    return process_chunk(spec_json, src, start, stop, pad, part, device)


def assemble_task(spec_json: str, src: str, out: str, *parts: dict[str, Any]) -> dict[str, Any]:
    d = assemble(spec_json, src, out, list(parts))
    d["node"] = _node()
    return d


def probe_task(inputs: list[str], out_dir: str) -> tuple[str, list[str]]:
    return _node(), probe_paths(inputs, out_dir)


def _reachable(address: str, timeout: float = 10.0) -> None:
    """For a ``host:port`` address, fail fast (Ray itself keeps retrying for minutes)."""
    import socket

    if address in ("auto", "local") or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise SeedwaveError(f"cannot connect to the Ray cluster at {address!r} "
                            f"({getattr(exc, 'strerror', None) or exc}); is `ray start --head` running there, "
                            "and is that its GCS port (6379 by default)?") from None


def _connect(ray: Any, address: str) -> None:
    _reachable(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except ConnectionError as exc:
        raise SeedwaveError(f"cannot connect to the Ray cluster at {address!r} ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - Ray raises several kinds here
        raise SeedwaveError(f"cannot start Ray with address {address!r} ({type(exc).__name__}: {exc})") from None


def probe_nodes(ray: Any, items: list[BatchItem], out_dir: Path) -> int:
    """Run the path probe on every alive node with CPUs; raise naming the problems."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
    if not nodes:
        raise SeedwaveError("the Ray cluster has no node with CPUs")
    probe = ray.remote(probe_task)
    inputs = [str(it.src) for it in items]
    refs = [probe.options(num_cpus=0, max_retries=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
        node_id=n["NodeID"], soft=False)).remote(inputs, str(out_dir)) for n in nodes]
    problems: list[str] = []
    try:
        results = ray.get(refs, timeout=PROBE_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        raise SeedwaveError(f"the Ray nodes did not answer the start-up check within {PROBE_TIMEOUT_S:.0f} s") from None
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        raise SeedwaveError(f"Seedwave cannot run on a Ray node ({type(cause).__name__}: {cause}); "
                            "install the same Seedwave version on every node") from None
    for node, found in results:
        problems.extend(f"on node {node}: {p}" for p in found)
    if problems:
        raise SeedwaveError("the inputs and the output folder must be reachable from every node (shared "
                            "storage at the same paths): " + "; ".join(problems[:5]))
    return len(nodes)


def _parts_dir(out_dir: Path, item: BatchItem, chain_sha: str) -> Path:
    key = hashlib.sha256(f"{item.src}\0{item.size}\0{item.mtime_ns}\0{chain_sha}".encode()).hexdigest()[:20]
    return out_dir / PARTS_DIR / key


def _error_text(ray: Any, exc: BaseException, item: BatchItem) -> str:
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = getattr(exc, "cause", None) or exc
        return f"{item.src}: unexpected {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{item.src}: the Ray task failed after {type(exc).__name__} ({first})"


def run_on_ray(runner: BatchRunner, todo: list[BatchItem]) -> None:
    """Submit every input to the cluster and record outcomes as they arrive."""
    import soundfile as sf

    ray = import_ray()
    _connect(ray, runner.ray_address or "auto")
    try:
        probe_nodes(ray, todo, runner.out_dir)
        uses_gpu = any(s.effect.uses_gpu and not s.step.bypass for s in runner.steps)
        gpus = float(ray.cluster_resources().get("GPU", 0.0))
        num_gpus = runner.gpus_per_task if (uses_gpu and gpus > 0 and runner.device != "cpu") else 0.0
        device = runner.device if num_gpus > 0 else "cpu"
        if uses_gpu and num_gpus == 0:
            runner.notes.append("the Ray cluster has no GPUs; GPU effects ran on the CPUs")
        opts = {"num_cpus": 1, "num_gpus": num_gpus, "max_retries": runner.max_retries, "retry_exceptions": False}
        cpu_opts = {"num_cpus": 1, "max_retries": runner.max_retries, "retry_exceptions": False}
        f_file = ray.remote(file_task).options(**opts)
        f_chunk = ray.remote(chunk_task).options(**opts)
        f_join = ray.remote(assemble_task).options(**cpu_opts)
        split = chunkable(runner.steps)
        pad_s = max([2.0] + [s.effect.overlap_seconds for s in runner.steps if not s.is_loudness])

        chunked: dict[str, Path] = {}  # input -> its chunk folder, removed once the input is recorded

        def submit(it: BatchItem) -> Any:
            if split and runner.chunk_seconds > 0 and it.duration > 1.5 * runner.chunk_seconds:
                try:
                    info = sf.info(str(it.src))
                except Exception:  # noqa: BLE001 - the file task reports unreadable files
                    info = None
                if info is not None and info.samplerate > 0:
                    hop = int(runner.chunk_seconds * info.samplerate)
                    n = max(1, math.ceil(info.frames / hop))
                    folder = _parts_dir(runner.out_dir, it, runner.chain_sha256)
                    parts = [f_chunk.remote(runner.spec_json, str(it.src), i * hop, min(info.frames, (i + 1) * hop),
                                            int(pad_s * info.samplerate), str(folder / f"{i:05d}.npy"), device)
                             for i in range(n)]
                    chunked[it.key] = folder
                    return f_join.remote(runner.spec_json, str(it.src), str(it.out), *parts)
            return f_file.remote(runner.spec_json, str(it.src), str(it.out), device)

        # A window of inputs in flight (a few per CPU) keeps the cluster busy while the
        # driver's bookkeeping stays small, whatever the number of inputs.
        window = max(8, int(4 * ray.cluster_resources().get("CPU", 1)))
        waiting = list(reversed(todo))
        pending: dict[Any, BatchItem] = {}
        while pending or waiting:
            if runner.cancelled:
                for ref in pending:
                    ray.cancel(ref, force=True, recursive=True)
                return
            while waiting and len(pending) < window:
                it = waiting.pop()
                pending[submit(it)] = it
            ready, rest = ray.wait(list(pending), num_returns=1, timeout=0.5)
            if ready and rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                ready += more
            for ref in ready:
                it = pending.pop(ref)
                try:
                    runner.record_dict(ray.get(ref))
                except Exception as exc:  # noqa: BLE001 - retries exhausted, or a crash
                    runner.record(ItemResult(str(it.src), str(it.out), "failed", error=_error_text(ray, exc, it)))
                folder = chunked.pop(it.key, None)
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        folder.parent.rmdir()  # the parts folder, once no other input uses it
            if not ready:
                runner._emit()
    finally:
        ray.shutdown()
