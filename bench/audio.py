"""Audio past FFmpeg: a long reverb through the audio-blocks route against FFmpeg ``afir``,
the FFT libraries and the convolver designs, measured side by side in the same run.

Usage: python bench/audio.py [--quick] [--only wav mp3 designs fft imports] [--json FILE]

The input is real audio tiled to 10 minutes (2 with ``--quick``): the shipped speech
(resampled to 44.1 kHz) over the shipped melody, stereo, 16-bit; the kernel is the
shipped room response continued to 1 s by its own late tail and decay. Every pair is
interleaved after a warm-up and the ratio quoted is the median of per-round ratios (below
1 is faster). Whole processes report peak RSS and CPU seconds from GNU time; in-process
rows are medians of wall time. Optional peers (pyFFTW, mkl_fft, FFmpeg) are skipped with
a note when they are missing. FFmpeg 5.1's ``afir`` doubles the gain unless ``wet=0.5``
and drops the tail: it writes the input's length, convcli the full convolution.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS: list[dict] = []
RATE = 44100


def row(work, ours, theirs, a, b, extra=""):
    ratio = float(np.median(np.array(a) / np.array(b)))
    ROWS.append(
        {
            "work": work,
            "ours": ours,
            "theirs": theirs,
            "ours_s": float(np.median(a)),
            "theirs_s": float(np.median(b)),
            "ratio": ratio,
            "extra": extra,
        }
    )
    print(f"  {work}: {ours} {np.median(a):.3f} s / {theirs} {np.median(b):.3f} s = {ratio:.2f} "
          f"{extra}", file=sys.stderr, flush=True)  # fmt: skip


def skip(work, theirs, why):
    ROWS.append({"work": work, "theirs": theirs, "skipped": why})
    print(f"  skipped {work} vs {theirs}: {why}", file=sys.stderr)


def make_inputs(folder: Path, minutes: float) -> None:
    """``in.wav``, ``in.mp3`` (when FFmpeg is here) and a 1 s ``ir.wav`` from the samples."""
    import soundfile as sf
    from scipy.signal import fftconvolve, resample_poly

    melody, _ = sf.read(ROOT / "samples" / "melody.flac")  # (2 s, 2) at 44.1 kHz
    speech, rate = sf.read(ROOT / "samples" / "speech.wav")  # (8.2 s,) at 22,050 Hz
    speech = resample_poly(speech, RATE // rate, 1)
    piece = np.zeros((len(speech) + len(melody), 2))
    piece[: len(speech)] += np.column_stack([0.6 * speech, 0.4 * speech])  # panned left
    piece[: len(melody)] += 0.4 * melody
    piece[len(speech) :] += 0.4 * melody[:, ::-1]
    x = np.tile(piece, (-(-int(minutes * 60 * RATE) // len(piece)), 1))[: int(minutes * 60 * RATE)]
    sf.write(folder / "in.wav", 0.9 * x / np.abs(x).max(), RATE, subtype="PCM_16")
    ir, _ = sf.read(ROOT / "samples" / "room-ir.wav")  # (0.6 s, 2): continue its late tail
    late, rest = ir[len(ir) // 2 :], RATE - len(ir)
    decay = 10 ** (-3 * np.arange(rest) / RATE / 0.45)[:, None]  # RT60 0.45 s, as measured
    tail = np.tile(late, (-(-rest // len(late)), 1))[:rest] * decay
    tail *= np.abs(ir[-2000:]).mean() / np.abs(late).mean()
    ir = np.concatenate([ir, tail])  # (44100, 2)
    probe, _ = sf.read(folder / "in.wav", frames=20 * RATE)
    ir *= 0.9 / np.abs(fftconvolve(probe, ir, axes=0)).max()  # a reverb near full scale
    sf.write(folder / "ir.wav", ir, RATE, subtype="PCM_16")
    if shutil.which("ffmpeg"):
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", folder / "in.wav", "-b:a", "192k",
             folder / "in.mp3"], check=True,
        )  # fmt: skip


def timed_process(cmd):
    """(wall seconds, peak RSS in MB, CPU seconds) of one whole process, via GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as log:
        start = time.perf_counter()
        subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", log.name, *map(str, cmd)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        kb, user, system = log.read().split()[-3:]
    return wall, int(kb) / 1024, float(user) + float(system)


def processes(work, ours_cmd, theirs_cmd, theirs, rounds):
    timed_process(ours_cmd), timed_process(theirs_cmd)  # warm the page cache and both up
    a, b = [], []
    for _ in range(rounds):
        a.append(timed_process(ours_cmd))
        b.append(timed_process(theirs_cmd))
    cpu = np.median([x[2] for x in a]) / np.median([x[2] for x in b])
    extra = (
        f"{max(x[1] for x in a):.0f} vs {max(x[1] for x in b):.0f} MB; CPU "
        f"{np.median([x[2] for x in a]):.2f} vs {np.median([x[2] for x in b]):.2f} s "
        f"({cpu:.2f})"
    )
    row(work, "convcli", theirs, [x[0] for x in a], [x[0] for x in b], extra)


def bench_route(folder, ext, minutes, rounds):
    work = f"{minutes:g} min stereo 44.1 kHz {ext.upper()} -> {ext.upper()}, 1 s IR"
    if not shutil.which("ffmpeg") or not os.path.exists("/usr/bin/time"):
        skip(work, "ffmpeg afir", "needs ffmpeg and GNU time (apt-get install ffmpeg time)")
        return
    src, ir = folder / f"in.{ext}", folder / "ir.wav"
    ours = [sys.executable, "-m", "convcli", "-q", "conv1d", src, "-k", ir, "-o",
            f"{folder}/o.{ext}"]  # fmt: skip
    theirs = ["ffmpeg", "-y", "-v", "quiet", "-i", src, "-i", ir, "-lavfi", "afir=wet=0.5",
              f"{folder}/f.{ext}"]  # fmt: skip
    processes(work, ours, theirs, "ffmpeg afir=wet=0.5", rounds)


def interleave(cases: dict, rounds: int) -> dict:
    """Warm each up, then time them in turn; seconds per case."""
    for f in cases.values():
        f()
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, f in cases.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return times


def upols(x, w, partition=8192):
    """FFmpeg ``afir``'s design in NumPy and ducc0: uniform partitions of ``partition``
    frames, transforms of twice that, a frequency-domain delay line of ``K`` spectra."""
    import ducc0.fft as fft

    P, (n, C), K = partition, x.shape, -(-len(w) // partition)
    h = np.zeros((K * P, C))
    h[: len(w)] = w
    H = fft.r2c(np.concatenate([h.reshape(K, P, C), np.zeros((K, P, C))], axis=1), axes=(1,))
    H /= 2 * P  # (K, P+1, C)
    nb = -(-(n + len(w) - 1) // P)
    xp = np.zeros(((nb + 1) * P, C))
    xp[P : P + n] = x  # a block of history before the first
    X = np.zeros((nb + K - 1, P + 1, C), complex)  # K-1 empty spectra, then each block's
    s0, s1 = xp.strides
    windows = np.lib.stride_tricks.as_strided(xp, (nb, 2 * P, C), (P * s0, s0, s1))
    X[K - 1 :] = fft.r2c(windows, axes=(1,))
    Y = X[K - 1 :] * H[0]
    for j in range(1, K):  # the delay line: block b sums X[b - j] H[j]
        Y += X[K - 1 - j : K - 1 - j + nb] * H[j]
    y = fft.c2r(Y, axes=(1,), lastsize=2 * P, forward=False)[:, P:]  # (nb, P, C)
    return y.reshape(nb * P, C)[: n + len(w) - 1]


def bench_designs(folder, rounds):
    import scipy.signal as ss
    import soundfile as sf

    from convcli.engine import partitioned
    from convcli.engine.spectral import oa_full

    x, _ = sf.read(folder / "in.wav", frames=60 * RATE)
    w, _ = sf.read(folder / "ir.wav")
    expected = ss.oaconvolve(x, w, axes=0)

    def ours(**kw):
        conv = partitioned.OverlapSave(w, 2, **kw)
        step = conv.block * conv.workers
        parts = [conv.push(x[i : i + step]) for i in range(0, len(x), step)]
        return np.concatenate(parts + [conv.flush()])

    def numpy_fft():
        real = partitioned._ducc
        partitioned._ducc = lambda: None
        try:
            return ours()
        finally:
            partitioned._ducc = real

    cases = {
        "OverlapSave, 3 x 2**16, threads": ours,
        "OverlapSave, one thread": lambda: ours(workers=1),
        "OverlapSave, numpy.fft": numpy_fft,
        "uniform partitions of 8,192 (afir's design)": lambda: upols(x, w, 8192),
        "uniform partitions of 2,048": lambda: upols(x, w, 2048),
        "OverlapAdd (scipy.fft, before)": lambda: oa_full(x, w),
        "scipy.signal.oaconvolve": lambda: ss.oaconvolve(x, w, axes=0),
    }
    for name, f in cases.items():
        error = np.abs(f() - expected).max() / np.abs(expected).max()
        assert error < 1e-9, (name, error)
    times = interleave(cases, rounds)
    base = times.pop("OverlapSave, 3 x 2**16, threads")
    for name, t in times.items():
        row("1 min stereo, 1 s IR, in process", "OverlapSave (threads)", name, base, t)


def _fft_cases(N):
    """Round trips (forward, then inverse) of (2, N) float64 rows, by library."""
    import importlib.machinery
    import importlib.util

    import ducc0.fft as ducc
    import scipy.fft as sfft

    a = np.random.default_rng(0).normal(size=(2, N))
    spec, y = np.empty((2, N // 2 + 1), complex), np.empty((2, N))
    cases = {
        "ducc0": lambda: ducc.c2r(
            ducc.r2c(a, axes=(1,), out=spec), axes=(1,), lastsize=N, forward=False, out=y
        ),
        "numpy.fft": lambda: np.fft.irfft(np.fft.rfft(a), N),
        "scipy.fft": lambda: sfft.irfft(sfft.rfft(a), N),
    }
    found = list((Path(importlib.util.find_spec("scipy").origin).parent / "fft").glob(
        "_pocketfft/pypocketfft*.so"))  # fmt: skip
    if found:  # SciPy's pocketfft itself, under its array-API layer
        loader = importlib.machinery.ExtensionFileLoader("pypocketfft", str(found[0]))
        pp = loader.load_module()
        cases["pocketfft (SciPy's, direct)"] = lambda: pp.c2r(
            pp.r2c(a, (1,), True, 1, None, 1), (1,), N, False, 1, None, 1
        )
    try:
        import pyfftw

        A = pyfftw.empty_aligned((2, N), "float64")
        B = pyfftw.empty_aligned((2, N // 2 + 1), "complex128")
        fw = pyfftw.FFTW(A, B, axes=(1,), flags=("FFTW_ESTIMATE",))
        bw = pyfftw.FFTW(B, A, axes=(1,), direction="FFTW_BACKWARD", flags=("FFTW_ESTIMATE",))
        cases["pyFFTW (estimate)"] = lambda: (A.__setitem__(..., a), fw(), bw())
    except ImportError:
        skip(f"FFT round trip, 2 x {N}", "pyFFTW", "not installed (pip install pyfftw)")
    try:
        import mkl_fft

        cases["mkl_fft"] = lambda: mkl_fft.irfft(mkl_fft.rfft(a, axis=1), n=N, axis=1)
    except ImportError:
        skip(f"FFT round trip, 2 x {N}", "mkl_fft", "not installed (pip install mkl-fft)")
    return cases


def bench_fft(rounds):
    for N in (16384, 3 << 16):  # afir's partition transform, and the block route's
        times = interleave(_fft_cases(N), rounds)
        base = times.pop("ducc0")
        for name, t in times.items():
            row(f"FFT round trip, 2 x {N} float64", "ducc0", name, base, t)


def _import_ms(module: str) -> float:
    """What ``import module`` adds after NumPy: the top-level ``-X importtime`` entries
    that follow NumPy's own."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import numpy, {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    top = [
        line.split("|")
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and not line.split("|")[2].startswith("  ")
    ]  # (self, cumulative, name) of each import made at the top level
    after = [i for i, (_, _, name) in enumerate(top) if name.strip() == "numpy"][-1] + 1
    return sum(int(cumulative) for _, cumulative, _ in top[after:]) / 1e3


def bench_imports(rounds):
    """Whole ``python -c "import numpy, X"`` against ``import numpy`` alone, interleaved,
    and what ``-X importtime`` charges X (less noisy than wall time on a loaded machine)."""
    base = [sys.executable, "-c", "import numpy"]
    for module in ["ducc0.fft", "numpy.fft", "scipy.fft", "pyfftw", "mkl_fft"]:
        cmd = [sys.executable, "-c", f"import numpy, {module}"]
        if subprocess.run(cmd, capture_output=True).returncode:
            skip(f"import {module}", "import numpy", "not installed")
            continue
        a, b, own = [], [], []
        for _ in range(rounds):
            for c, out in ((cmd, a), (base, b)):
                start = time.perf_counter()
                subprocess.run(c, check=True)
                out.append(time.perf_counter() - start)
            own.append(_import_ms(module))
        extra = f"-X importtime: {np.median(own):.0f} ms of imports after numpy"
        row(f"import {module}", f"import numpy, {module}", "import numpy", a, b, extra)


def table(rows) -> str:
    lines = [
        "| work | convcli | peer | convcli | peer | ratio | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['work']} | | {r['theirs']} | | | | skipped: {r['skipped']} |")
            continue
        lines.append(
            f"| {r['work']} | {r['ours']} | {r['theirs']} | {_t(r['ours_s'])} | "
            f"{_t(r['theirs_s'])} | {r['ratio']:.2f} | {r['extra']} |"
        )
    return "\n".join(lines)


def _t(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes of audio, fewer rounds")
    kinds = ["wav", "mp3", "designs", "fft", "imports"]
    parser.add_argument("--only", nargs="*", choices=kinds)
    parser.add_argument("--rounds", type=int, help="rounds of each whole-process pair")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args()
    chosen = set(args.only or kinds)
    minutes = 2 if args.quick else 10
    rounds = args.rounds or (2 if args.quick else 3)
    from bench.startup import _compile_bytecode

    _compile_bytecode()  # as pip install does (this machine sets PYTHONDONTWRITEBYTECODE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_inputs(folder, minutes)
        if "wav" in chosen:
            bench_route(folder, "wav", minutes, rounds)
        if "mp3" in chosen:
            bench_route(folder, "mp3", minutes, max(1, rounds - 1))
        if "designs" in chosen:
            bench_designs(folder, 5 if args.quick else 9)
    if "fft" in chosen:
        bench_fft(9 if args.quick else 21)
    if "imports" in chosen:
        bench_imports(5 if args.quick else 11)
    print(table(ROWS))
    if args.json:
        Path(args.json).write_text(json.dumps(ROWS, indent=1))


if __name__ == "__main__":
    main()
