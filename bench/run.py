"""convcli against its peers, measured side by side in the same run.

Usage: python bench/run.py [--quick] [--only NAME ...] [--json FILE]

Prints a Markdown table of medians and ratios (convcli / peer; below 1 is
faster). Engine calls are timed in-process, interleaving convcli and the peer
after a warm-up, and the ratio quoted is the median of per-round ratios;
commands run as whole processes, with peak memory from getrusage. Peers that
are not installed are skipped with a note.
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


def row(work, peer, ours, theirs, ours_mem=None, theirs_mem=None, note=""):
    ratios = [o / t for o, t in zip(ours, theirs)]
    r = {
        "work": work,
        "peer": peer,
        "convcli_s": float(np.median(ours)),
        "peer_s": float(np.median(theirs)),
        "ratio": float(np.median(ratios)),
        "note": note,
    }
    if ours_mem is not None:
        r["convcli_mb"], r["peer_mb"] = ours_mem, theirs_mem
    ROWS.append(r)
    mem = f", {ours_mem:.0f} vs {theirs_mem:.0f} MB" if ours_mem is not None else ""
    print(
        f"  {work} vs {peer}: {r['convcli_s'] * 1e3:.1f} / {r['peer_s'] * 1e3:.1f} ms "
        f"= {r['ratio']:.2f}{mem}",
        file=sys.stderr,
        flush=True,
    )


def skip(work, peer, why):
    ROWS.append({"work": work, "peer": peer, "skipped": why})
    print(f"  skipped {work} vs {peer}: {why}", file=sys.stderr)


def interleave(ours, theirs, rounds):
    """Warm both up, then alternate; returns the two lists of seconds."""
    ours(), theirs()
    a, b = [], []
    for _ in range(rounds):
        for f, out in ((ours, a), (theirs, b)):
            start = time.perf_counter()
            f()
            out.append(time.perf_counter() - start)
    return a, b


def timed_process(cmd, **kw):
    """Wall seconds and the process's peak RSS in MB (None without /usr/bin/time)."""
    if os.path.exists("/usr/bin/time"):
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as log:
            start = time.perf_counter()
            subprocess.run(
                ["/usr/bin/time", "-f", "%M", "-o", log.name, *cmd],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                **kw,
            )
            seconds = time.perf_counter() - start
            return seconds, int(log.read().split()[-1]) / 1024
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start, None


def processes(work, peer, ours_cmd, theirs_cmd, rounds, note=""):
    timed_process(ours_cmd), timed_process(theirs_cmd)  # warm the page cache
    ours, theirs, om, tm = [], [], [], []
    for _ in range(rounds):
        s, m = timed_process(ours_cmd)
        ours.append(s), om.append(m)
        s, m = timed_process(theirs_cmd)
        theirs.append(s), tm.append(m)
    known = None not in om + tm
    row(work, peer, ours, theirs, max(om) if known else None, max(tm) if known else None, note)


def bench_engine(quick):
    import scipy.signal as ss

    from convcli import convolve

    rng = np.random.default_rng(0)
    ns = [10**3, 10**4, 10**5, 10**6] + ([] if quick else [10**7])
    ks = [3, 31, 301, 3001, 30001]
    for n in ns:
        x = rng.normal(size=n)
        for k in ks:
            if k > n or (quick and n * k > 3e9):
                continue
            w = rng.normal(size=k)
            rounds = 3 if n * k > 1e9 else (5 if n >= 10**6 else 15)
            a, b = interleave(
                lambda x=x, w=w: convolve(x, w), lambda x=x, w=w: ss.convolve(x, w), rounds
            )
            row(f"convolve {n:.0e} x {k}, full", "scipy.signal.convolve", a, b)
    x = rng.normal(size=2 * 10**6)
    for k in [31, 63, 255, 1023, 4095]:  # issue 13: polyphase at every kernel length
        w = rng.normal(size=k)
        a, b = interleave(
            lambda w=w: convolve(x, w, "valid", stride=4),
            lambda w=w: ss.convolve(x, w, "valid")[::4],
            5 if quick else 11,
        )
        row(f"stride 4, valid, 2e6 x {k}", "scipy then [::4]", a, b)
    x, w = rng.normal(size=10**6), rng.normal(size=301)
    a, b = interleave(lambda: convolve(x, w), lambda: ss.oaconvolve(x, w), 7)
    row("convolve 1e6 x 301, full", "scipy.signal.oaconvolve", a, b)


def make_audio(folder, minutes):
    import soundfile as sf

    rate = 44100
    rng = np.random.default_rng(1)
    t = np.arange(rate) / rate
    ir = rng.normal(size=(rate, 2)) * np.exp(-7 * t)[:, None] * 0.05
    ir[0] = 1
    sf.write(folder / "ir.wav", ir, rate, subtype="PCM_16")
    np.savetxt(folder / "ir.txt", ir[:, 0], fmt="%.8f")
    with sf.SoundFile(folder / "in.wav", "w", rate, 2, "PCM_16") as f:
        for _ in range(int(minutes * 60)):
            f.write(rng.uniform(-0.3, 0.3, size=(rate, 2)))


def bench_audio(quick, folder):
    minutes = 2 if quick else 10
    make_audio(folder, minutes)
    rounds = 2 if quick else 3
    convcli = [
        sys.executable,
        "-m",
        "convcli",
        "conv1d",
        str(folder / "in.wav"),
        "-k",
        str(folder / "ir.wav"),
        "-o",
        str(folder / "out.wav"),
    ]
    work = f"{minutes} min stereo 44.1 kHz, 1 s IR"
    if shutil.which("sox"):
        processes(
            work,
            "sox fir",
            convcli,
            ["sox", str(folder / "in.wav"), str(folder / "sox.wav"), "fir", str(folder / "ir.txt")],
            rounds,
            "SoX applies the left IR to both channels",
        )
    else:
        skip(work, "sox fir", "sox is not installed (apt-get install sox)")
    if shutil.which("ffmpeg"):
        processes(
            work,
            "ffmpeg afir",
            convcli,
            [
                "ffmpeg",
                "-y",
                "-v",
                "quiet",
                "-i",
                str(folder / "in.wav"),
                "-i",
                str(folder / "ir.wav"),
                "-lavfi",
                "afir=wet=0.5",
                str(folder / "ff.wav"),
            ],
            rounds,
        )
    else:
        skip(work, "ffmpeg afir", "ffmpeg is not installed (apt-get install ffmpeg)")
    script = (
        "import soundfile as sf, scipy.signal as ss, sys; x, r = sf.read(sys.argv[1]); "
        "k, _ = sf.read(sys.argv[2]); y = ss.oaconvolve(x, k, axes=0); "
        "sf.write(sys.argv[3], y.clip(-1, 1), r, subtype='PCM_16')"
    )
    processes(
        work,
        "scipy oaconvolve in memory",
        convcli,
        [
            sys.executable,
            "-c",
            script,
            str(folder / "in.wav"),
            str(folder / "ir.wav"),
            str(folder / "sp.wav"),
        ],
        rounds,
    )


def bench_cnn(quick):
    try:
        import torch
    except ImportError:
        skip("CNN layer", "PyTorch", "torch is not installed (pip install torch==2.13.0)")
        return
    from convcli.engine.bank import bank_backward, bank_forward

    torch.set_num_threads(2)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 14, 14, 32)).astype(np.float32)
    w = (rng.normal(size=(64, 32, 3, 3)) * 0.1).astype(np.float32)
    b = np.zeros(64, np.float32)
    pairs = ((1, 1), (1, 1))

    def ours():
        y, cols = bank_forward(x, w, b, (1, 1), pairs, (1, 1), keep_cols=True)
        bank_backward(y, cols, x.shape, w, (1, 1), pairs, (1, 1))

    tx = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)

    def theirs():
        y = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
        y.backward(y.detach())

    a, c = interleave(ours, theirs, 10 if quick else 30)
    row("3x3 conv 32->64 on 64x14x14, forward+backward", "torch.nn.functional.conv2d", a, c)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument(
        "--only", nargs="*", choices=["engine", "audio", "image", "cnn", "epoch", "startup"]
    )
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args()
    chosen = set(args.only or ["engine", "audio", "image", "cnn", "epoch", "startup"])
    from bench import epoch, images, startup

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, run in [
            ("engine", lambda: bench_engine(args.quick)),
            ("cnn", lambda: bench_cnn(args.quick)),
            ("startup", lambda: startup.bench(args.quick, row)),
            ("audio", lambda: bench_audio(args.quick, folder)),
            (
                "image",
                lambda: images.bench(args.quick, folder, row, skip, processes, timed_process),
            ),
            ("epoch", lambda: epoch.bench(args.quick, row, skip)),
        ]:
            if name in chosen:
                print(f"{name}...", file=sys.stderr, flush=True)
                run()
    print(table(ROWS))
    if args.json:
        Path(args.json).write_text(json.dumps(ROWS, indent=1))


def table(rows) -> str:
    lines = ["| work | peer | convcli | peer time | ratio |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['work']} | {r['peer']} | skipped | {r['skipped']} | |")
            continue
        mem = (
            (f" ({r['convcli_mb']:.0f} MB)", f" ({r['peer_mb']:.0f} MB)")
            if "peer_mb" in r
            else ("", "")
        )
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(
            f"| {r['work']} | {r['peer']}{note} | {_t(r['convcli_s'])}{mem[0]} | "
            f"{_t(r['peer_s'])}{mem[1]} | {r['ratio']:.2f} |"
        )
    ratios = [
        r["ratio"]
        for r in rows
        if "ratio" in r
        and r["work"].startswith("convolve")
        and r["peer"] == "scipy.signal.convolve"
    ]
    if ratios:
        lines.append(
            f"\nengine vs scipy.signal.convolve: median ratio {np.median(ratios):.2f}, "
            f"worst {max(ratios):.2f} over {len(ratios)} sizes"
        )
    return "\n".join(lines)


def _t(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    # PyTorch's OpenMP threads spin after each call by default, stealing the cores from
    # whatever runs next in the same process; passive waiting keeps interleaving fair.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    main()
