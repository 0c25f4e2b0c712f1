"""convcli on a Dask cluster: a Zarr array larger than the workers' memory, and a batch of JPEGs.

Usage: python bench/cluster.py [--big 20000x50000] [--chunks 2000x5000] [--scaling 10000x25000]
                               [--batch 200] [--scratch DIR] [--skip big,scaling,batch]

Prints a Markdown table (it asserts nothing about timings). Every cluster here is a
LocalCluster on 127.0.0.1 whose workers are separate processes with one thread each,
limited to ``--memory`` apiece; peak memory is each worker's RSS sampled every 0.2 s.
Scratch stores are deleted afterwards.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS: list[tuple[str, str]] = []


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


class PeakMemory:
    """Sample every worker's RSS in a background thread; ``peak`` maps worker -> bytes."""

    def __init__(self, client, every=0.2):
        self.client, self.every, self.peak = client, every, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # a worker restarting: sample again next time
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _cluster(workers: int, memory: str):
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory,
        host="127.0.0.1",
        dashboard_address=None,
    )


def _shape(text: str) -> tuple[int, int]:
    rows, cols = text.lower().split("x")
    return int(rows), int(cols)


def make_store(path: str, shape, chunks, client) -> None:
    """A float32 Zarr array of standard normal noise, written chunk by chunk on the cluster."""
    import dask.array as da

    x = da.random.default_rng(0).standard_normal(shape, chunks=chunks, dtype=np.float32)
    client.compute(x.to_zarr(path, overwrite=True, compute=False)).result()


def check_crops(source: str, target: str, kernel, half: int) -> float:
    """Largest difference between the chunked result and the engine on cropped windows."""
    from convcli.engine import convolve
    from convcli.io.zarrfile import read_chunked

    x, y = read_chunked(source), read_chunked(target)
    rows, cols = x.shape
    worst = 0.0
    for r, c in [(0, 0), (rows // 2 - 20, cols // 2 - 20), (rows - 40, cols - 40), (1990, 4990)]:
        r0, c0 = max(r - half, 0), max(c - half, 0)
        r1, c1 = min(r + 40 + half, rows), min(c + 40 + half, cols)
        whole = convolve(x[r0:r1, c0:c1], kernel, "same")  # zero padding at the true edges
        want = whole[r - r0 : r - r0 + 40, c - c0 : c - c0 + 40]
        worst = max(worst, float(np.abs(y[r : r + 40, c : c + 40] - want).max()))
    return worst


def blur_store(shape, chunks, workers: int, memory: str, scratch: Path, check: bool) -> dict:
    """Blur a float32 store with a 31x31 Gaussian on the cluster; time, memory, accuracy."""
    from distributed import Client

    from convcli import kernels
    from convcli.routes.chunks import convolve_chunked

    kernel = kernels.make("gaussian:sigma=5", 2).astype(np.float32)  # (31, 31)
    source, target = str(scratch / "in.zarr"), str(scratch / "out.zarr")
    with _cluster(workers, memory) as cluster, Client(cluster) as client:
        start = time.perf_counter()
        make_store(source, shape, chunks, client)
        made = time.perf_counter() - start
        with PeakMemory(client) as memory_peak:
            start = time.perf_counter()
            convolve_chunked(source, target, kernel, mode="same", scheduler=client)
            took = time.perf_counter() - start
    result = {
        "write input": made,
        "convolve": took,
        "peak": max(memory_peak.peak.values()),
        "samples": shape[0] * shape[1],
    }
    if check:
        result["error"] = check_crops(source, target, kernel, kernel.shape[0] // 2)
    shutil.rmtree(source)
    shutil.rmtree(target)
    return result


def make_jpegs(folder: Path, count: int) -> list[str]:
    """``count`` different 2-megapixel JPEGs cut from a real photo scaled up."""
    from PIL import Image

    photo = Image.open(ROOT.parent / "shared/data/images/chelsea.png").convert("RGB")
    big = np.asarray(photo.resize((1900, 1400), Image.BICUBIC))
    paths = []
    for i in range(count):
        r, c = (i * 7) % 180, (i * 13) % 220
        path = folder / f"photo{i:03d}.jpg"
        Image.fromarray(big[r : r + 1224, c : c + 1632]).save(path, quality=90)
        paths.append(str(path))
    return paths


def blur_jpeg(source: str, target: str, *, spec: str = "box:5") -> None:
    """One batch job: decode, convolve every channel with the engine, encode atomically."""
    from PIL import Image

    from convcli import kernels
    from convcli.engine import convolve
    from convcli.io.atomic import atomic_path

    x = np.asarray(Image.open(source).convert("RGB"), dtype=np.float64)  # (rows, cols, 3)
    y = convolve(x, kernels.make(spec, 2), "same", pad_mode="replicate", ndim=2)
    with atomic_path(target) as tmp:
        Image.fromarray(np.clip(np.rint(y), 0, 255).astype(np.uint8)).save(tmp, "JPEG", quality=90)


def nothing(source: str, target: str) -> None:
    """An empty job: what is left of its time on a cluster is the per-file overhead."""


def batch(count: int, scratch: Path) -> dict:
    """Wall time of ``count`` JPEG jobs: run_batch on 2 workers vs 2 threads vs 1."""
    from convcli.cluster import run_batch

    folder = scratch / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = make_jpegs(folder, count)
    outputs = [str(folder / f"out{i:03d}.jpg") for i in range(count)]
    job = functools.partial(blur_jpeg, spec="box:5")
    times = {}
    for threads in (1, 2):
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(job, inputs, outputs))
        times[f"threads={threads}"] = time.perf_counter() - start
    with _cluster(2, "2GB") as cluster:
        start = time.perf_counter()
        failures = run_batch(job, inputs, outputs, cluster.scheduler_address)
        times["cluster"] = time.perf_counter() - start
        start = time.perf_counter()
        run_batch(nothing, inputs, outputs, cluster.scheduler_address)
        times["cluster, empty job"] = time.perf_counter() - start
    assert not failures, failures
    shutil.rmtree(folder)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", default="20000x50000")
    parser.add_argument("--chunks", default="2000x5000")
    parser.add_argument("--scaling", default="10000x25000")
    parser.add_argument("--memory", default="1GB", help="memory limit per worker")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--scratch", default=str(ROOT.parent / "tmp-chunked"))
    parser.add_argument("--skip", default="", help="comma-separated: big,scaling,batch")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    chunks = _shape(args.chunks)
    if "big" not in skip:
        r = blur_store(_shape(args.big), chunks, 2, args.memory, scratch, check=True)
        label = f"{args.big} float32, 31x31 Gaussian, 2 workers x {args.memory}"
        ROWS.append((f"{label}: convolve wall time", f"{r['convolve']:.1f} s"))
        ROWS.append((f"{label}: throughput", f"{r['samples'] / r['convolve'] / 1e6:.1f} MS/s"))
        ROWS.append((f"{label}: peak RSS per worker", f"{r['peak'] / 1e6:.0f} MB"))
        ROWS.append((f"{label}: max abs error on 4 crops", f"{r['error']:.2g}"))
        ROWS.append((f"{label}: writing the input", f"{r['write input']:.1f} s"))
    if "scaling" not in skip:
        for workers in (1, 2):
            r = blur_store(_shape(args.scaling), chunks, workers, args.memory, scratch, False)
            ROWS.append(
                (
                    f"{args.scaling} float32, 31x31 Gaussian, {workers} worker(s)",
                    f"{r['convolve']:.1f} s, peak {r['peak'] / 1e6:.0f} MB",
                )
            )
    if "batch" not in skip:
        t = batch(args.batch, scratch)
        for name, seconds in t.items():
            ROWS.append(
                (
                    f"{args.batch} JPEGs of 2 MP, box:5: {name}",
                    f"{seconds:.1f} s ({seconds / args.batch * 1000:.0f} ms/file)",
                )
            )
        overhead = (t["cluster"] - t["threads=2"]) / args.batch * 2  # per file, per worker
        ROWS.append(("cluster minus 2 threads, per file per worker", f"{overhead * 1000:.0f} ms"))
    ROWS.append(("load average (1 min) at the end, on this machine", f"{os.getloadavg()[0]:.1f}"))
    print("| measurement | result |\n|---|---|")
    for name, value in ROWS:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
