"""convcli on a Dask cluster, side by side with dask-image: big Zarr stores, many files.

Usage: python bench/cluster.py [--big 20000x50000] [--chunks 4000x4000] [--explicit 8000x20000]
                               [--files 100000] [--rounds 2] [--scratch DIR]
                               [--only versus,explicit,files,stores,scaling,batch]

Prints Markdown tables (it asserts nothing about timings). Every cluster here is a
LocalCluster on 127.0.0.1 whose workers are separate processes with one thread each;
the workers are restarted before each measured run, so that each run's peak memory
(each worker's RSS sampled every 0.2 s) and its CPU time and bytes read (the workers'
``/proc`` counters, summed) are its own. The two tools run in turns, ``--rounds``
times; the ratios are medians of the per-round ratios. dask-image is installed for
the bench only (``pip install dask-image``); it is no dependency of convcli. Scratch
stores are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
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


def _usage() -> tuple[float, int]:
    """This process's CPU seconds and bytes read (``rchar``: page cache included)."""
    import psutil

    p = psutil.Process()
    t = p.cpu_times()
    return t.user + t.system, p.io_counters().read_chars


class PeakMemory:
    """Sample every worker's RSS in a background thread; ``peak`` maps worker -> bytes;
    ``cpu`` and ``read`` are the workers' CPU seconds and bytes read meanwhile."""

    def __init__(self, client, every=0.2):
        self.client, self.every, self.peak = client, every, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.cpu = self.read = 0.0

    def _sample(self):
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # a worker restarting: sample again next time
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._start = self.client.run(_usage)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        end = self.client.run(_usage)
        self.cpu = sum(end[w][0] - self._start[w][0] for w in end)
        self.read = sum(end[w][1] - self._start[w][1] for w in end)


def _cluster(workers: int, memory: str = "4GB"):
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


def blur_store(shape, chunks, workers: int, memory: str, scratch: Path) -> dict:
    """Blur a float32 store with a 31x31 Gaussian on ``workers`` workers: time and memory."""
    from distributed import Client

    from convcli import kernels
    from convcli.routes.chunks import convolve_chunked

    kernel = kernels.make("gaussian:sigma=5", 2).astype(np.float32)  # (31, 31)
    source, target = str(scratch / "in.zarr"), str(scratch / "out.zarr")
    with _cluster(workers, memory) as cluster, Client(cluster) as client:
        make_store(source, shape, chunks, client)
        with PeakMemory(client) as memory_peak:
            start = time.perf_counter()
            convolve_chunked(source, target, kernel, mode="same", scheduler=client)
            took = time.perf_counter() - start
    shutil.rmtree(source)
    shutil.rmtree(target)
    return {"convolve": took, "peak": max(memory_peak.peak.values())}


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


def _stored(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _convcli(source, target, kernel, client):
    from convcli.routes.chunks import convolve_chunked

    convolve_chunked(source, target, kernel, mode="same", scheduler=client)


def _dask_image(source, target, kernel, client):
    """dask-image on the same store, zero padding as convcli's: gaussian_filter for the
    Gaussian (sigma 5, truncated at 3 sigma: 31x31), else ndfilters.convolve."""
    import dask.array as da
    from dask_image import ndfilters

    x = da.from_zarr(source)
    if kernel is None:
        y = ndfilters.gaussian_filter(x, sigma=5, truncate=3.0, mode="constant", cval=0.0)
    else:
        y = ndfilters.convolve(x, kernel, mode="constant", cval=0.0)
    client.compute(y.to_zarr(target, overwrite=True, compute=False)).result()


def versus(shape, chunks, kernel, rounds: int, scratch: Path, label: str) -> list[tuple]:
    """convcli and dask-image in turns on one float32 store, 2 workers; one row each of
    wall time, CPU time, bytes read per byte of the store, and peak memory per worker."""
    from distributed import Client

    from convcli import kernels

    ours = kernels.make("gaussian:sigma=5", 2).astype(np.float32) if kernel is None else kernel
    source = str(scratch / "in.zarr")
    runs = {"convcli": [], "dask-image": []}
    with _cluster(2) as cluster, Client(cluster) as client:
        make_store(source, shape, chunks, client)
    stored = _stored(source)
    for r in range(rounds):
        for tool in ["convcli", "dask-image"] if r % 2 == 0 else ["dask-image", "convcli"]:
            target = str(scratch / f"{tool}.zarr")
            run = _convcli if tool == "convcli" else _dask_image
            with _cluster(2) as cluster, Client(cluster) as client, PeakMemory(client) as m:
                start = time.perf_counter()  # fresh workers: each run's peak is its own
                run(source, target, ours if tool == "convcli" else kernel, client)
                wall = time.perf_counter() - start
            runs[tool].append((wall, m.cpu, m.read / stored, max(m.peak.values())))
            print(f"  {label} round {r + 1} {tool}: {wall:.1f} s", file=sys.stderr)
    diff = _crops_differ(str(scratch / "convcli.zarr"), str(scratch / "dask-image.zarr"))
    for path in ("in.zarr", "convcli.zarr", "dask-image.zarr"):
        shutil.rmtree(scratch / path, ignore_errors=True)
    return _rows(label, runs, diff)


def _crops_differ(a: str, b: str) -> float:
    """Largest difference of two results on four 200x200 crops (corners and centre)."""
    from convcli.io.zarrfile import read_chunked

    x, y = read_chunked(a), read_chunked(b)
    rows, cols = x.shape
    worst = 0.0
    for r, c in [
        (0, 0),
        (rows // 2 - 100, cols // 2 - 100),
        (rows - 200, cols - 200),
        (0, cols - 200),
    ]:
        worst = max(
            worst, float(np.abs(x[r : r + 200, c : c + 200] - y[r : r + 200, c : c + 200]).max())
        )
    return worst


def _rows(label: str, runs: dict, diff: float) -> list[tuple]:
    """Rows ``(job, convcli, dask-image, ratio)``; ratios are medians of per-round ratios."""
    ours, theirs = np.array(runs["convcli"]), np.array(runs["dask-image"])
    ratio = np.median(ours / theirs, axis=0)
    span = lambda a, f: "-".join(dict.fromkeys(f(v) for v in (a.min(), a.max())))  # noqa: E731
    columns = (
        ("wall (s)", lambda v: f"{v:.1f}"),
        ("CPU (s)", lambda v: f"{v:.1f}"),
        ("bytes read / store", lambda v: f"{v:.2f}"),
        ("peak RSS per worker (MB)", lambda v: f"{v / 1e6:.0f}"),
    )
    rows = [
        (f"{label}: {what}", span(ours[:, i], f), span(theirs[:, i], f), f"{ratio[i]:.2f}")
        for i, (what, f) in enumerate(columns)
    ]
    rows.append((f"{label}: largest difference of the results", f"{diff:.1g}", "", ""))
    return rows


def tiny_files(count: int, scratch: Path) -> list[tuple]:
    """``count`` tiny .npy files through ``conv1d -r DIR --scheduler`` (a real CLI run):
    the client's peak RSS, the first result, the whole run; then the scheduler's rate
    for empty tasks, one file each and grouped."""
    import subprocess

    import psutil
    from distributed import Client

    from convcli.cluster import run_pairs

    folder, out = scratch / "tiny", scratch / "tiny-out"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        np.save(folder / f"t{i:06d}.npy", np.arange(16.0) + i)
    rows = []
    with _cluster(2) as cluster:
        command = [
            sys.executable,
            "-m",
            "convcli",
            "conv1d",
            "-q",
            "-r",
            str(folder),
            "-k",
            "1,2,1",
        ]
        command += ["-o", f"{out}/", "--scheduler", cluster.scheduler_address]
        start = time.perf_counter()
        child = psutil.Popen(command, stderr=subprocess.PIPE)
        first, peak = None, 0
        while child.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, child.memory_info().rss)
            if first is None and out.is_dir() and any(os.scandir(out)):
                first = time.perf_counter() - start
            time.sleep(0.05)
        took = time.perf_counter() - start
        assert child.returncode == 0, child.stderr.read()
        assert len(os.listdir(out)) == count
        rows += [
            (f"{count:,} tiny files, -r on the cluster: client peak RSS (MB)", f"{peak / 1e6:.0f}"),
            (f"{count:,} tiny files, -r on the cluster: first result (s)", f"{first:.1f}"),
            (
                f"{count:,} tiny files, -r on the cluster: whole run (s)",
                f"{took:.1f} ({count / took:.0f} files/s)",
            ),
        ]
        with Client(cluster.scheduler_address) as client:  # the scheduler's own rate
            start = time.perf_counter()
            client.gather(client.map(nothing, range(3000), range(3000), pure=False))
            rows.append(
                (
                    "3,000 empty tasks submitted at once: tasks per second",
                    f"{3000 / (time.perf_counter() - start):.0f}",
                )
            )
        pairs = [(str(folder / f"t{i:06d}.npy"), "unused") for i in range(min(count, 3000))]
        for name, seconds in (("one file per task", 0.0), ("grouped, about 1 s per task", 1.0)):
            start = time.perf_counter()
            assert not run_pairs(
                nothing, iter(pairs), cluster.scheduler_address, group_seconds=seconds
            )
            rate = len(pairs) / (time.perf_counter() - start)
            rows.append((f"empty jobs through the window, {name}: files per second", f"{rate:.0f}"))
    shutil.rmtree(folder)
    shutil.rmtree(out)
    return rows


def stores(count: int, scratch: Path) -> list[tuple]:
    """More .zarr stores than worker threads in one CLI batch: done, and equal to local."""
    import subprocess

    from distributed import Client

    from convcli.io.zarrfile import read_chunked

    names = [str(scratch / f"s{i}.zarr") for i in range(count)]
    with _cluster(2) as cluster, Client(cluster) as client:
        for name in names:
            make_store(name, (3000, 4000), (1000, 1000), client)
        base = [sys.executable, "-m", "convcli", "conv2d", "-q", *names, "-k", "gaussian:sigma=5"]
        base += ["--mode", "same"]
        start = time.perf_counter()
        far = subprocess.run(
            base + ["-o", f"{scratch}/far/", "--scheduler", cluster.scheduler_address], timeout=900
        )
        took = time.perf_counter() - start
    near = subprocess.run(base + ["-o", f"{scratch}/near/"], timeout=900)
    same = far.returncode == near.returncode == 0 and all(
        np.array_equal(
            read_chunked(f"{scratch}/far/{os.path.basename(n)}")[...],
            read_chunked(f"{scratch}/near/{os.path.basename(n)}")[...],
        )
        for n in names
    )
    for path in names + [f"{scratch}/far", f"{scratch}/near"]:
        shutil.rmtree(path, ignore_errors=True)
    return [
        (
            f"{count} stores of 3000x4000, 2 worker threads: on the cluster",
            f"{took:.1f} s, identical to local: {'yes' if same else 'NO'}",
        )
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", default="20000x50000")
    parser.add_argument("--chunks", default="4000x4000")
    parser.add_argument("--explicit", default="8000x20000")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scaling", default="10000x25000")
    parser.add_argument("--memory", default="1GB", help="memory limit per worker (scaling)")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--scratch", default=str(ROOT.parent / "tmp-chunked"))
    parser.add_argument("--only", default="versus,explicit,files,stores")
    args = parser.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    chunks = _shape(args.chunks)
    side = []
    if "versus" in only:
        side += versus(
            _shape(args.big), chunks, None, args.rounds, scratch, f"{args.big}, 31x31 Gaussian"
        )
    if "explicit" in only:
        w = np.random.default_rng(1).standard_normal((31, 31)).astype(np.float32)
        side += versus(
            _shape(args.explicit), chunks, w, args.rounds, scratch, f"{args.explicit}, random 31x31"
        )
    if side:
        print(
            "| job (float32 .zarr, chunks "
            + args.chunks
            + ", 2 workers) | convcli | dask-image | ratio |"
        )
        print("|---|---|---|---|")
        for row in side:
            print("| " + " | ".join(row) + " |")
        print()
    if "files" in only:
        ROWS.extend(tiny_files(args.files, scratch))
    if "stores" in only:
        ROWS.extend(stores(3, scratch))
    if "scaling" in only:
        for workers in (1, 2):
            r = blur_store(_shape(args.scaling), chunks, workers, args.memory, scratch)
            ROWS.append(
                (
                    f"{args.scaling} float32, 31x31 Gaussian, {workers} worker(s)",
                    f"{r['convolve']:.1f} s, peak {r['peak'] / 1e6:.0f} MB",
                )
            )
    if "batch" in only:
        t = batch(args.batch, scratch)
        for name, seconds in t.items():
            ROWS.append(
                (
                    f"{args.batch} JPEGs of 2 MP, box:5: {name}",
                    f"{seconds:.1f} s ({seconds / args.batch * 1000:.0f} ms/file)",
                )
            )
    ROWS.append(("load average (1 min) at the end, on this machine", f"{os.getloadavg()[0]:.1f}"))
    print("| measurement | result |\n|---|---|")
    for name, value in ROWS:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
