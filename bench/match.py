"""``convcli match`` against OpenCV, scikit-image and audio-offset-finder, and on long audio.

Three tables, each measured, never asserted (timings on a shared machine vary up to 2x):

(a) In-process: a 12-megapixel grey float32 photo (chelsea.png resized by libvips),
    templates of 32x32, 64x64 and 256x256 cut from it, TM_CCOEFF_NORMED. Each round
    times OpenCV in a block of its own (its thread pool spins after each call), then
    scikit-image, then convcli, after a warm-up; the ratios are convcli's median time over
    theirs in the same round, and the table gives the median ratio over the rounds. The
    CPU ratio is of the process's CPU time in the same calls (OpenCV's runs on one
    thread here, convcli's on two): what each costs where there is one free core.
(b) Whole process: the offset of a 12 s excerpt (cut from the WAV) in a 10-minute MP3
    of speech and melody pieces in noise, by ``convcli match`` and by BBC's
    ``audio-offset-finder`` (``--aof``: its command, installed apart from convcli as it
    pins numpy < 2), at its default 16 ms frames and at 10 ms ones (``--resolution 80``
    at its 8 kHz). convcli's offset is exact when it is the sample cut; it agrees when
    it rounds to audio-offset-finder's 10 ms frame.
(c) Whole process: a 5 s clip in a long stereo 16-bit WAV (speech tiled, in noise), with
    each output streamed, from the file and from a pipe: wall time, x real time, CPU
    time and the child's own peak RSS (GNU time's %M).

    python bench/match.py [--rounds 5] [--minutes 60] [--aof audio-offset-finder]
                          [--only images,mp3,long] [--out bench/results/match.md]
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
SIZES = (32, 64, 256)
RATE = 44100


def _photo() -> np.ndarray:
    import pyvips

    src = pyvips.Image.new_from_file(str(ROOT / "samples" / "chelsea.png")).colourspace("b-w")
    big = src.resize(4000 / src.width, vscale=3000 / src.height)
    return (
        big.numpy().astype(np.float32)[..., 0] if big.bands > 1 else big.numpy().astype(np.float32)
    )


def _median_time(f, runs: int) -> tuple[float, float]:
    """Median (wall s, CPU s of this process) of ``runs`` calls."""
    times = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        f()
        times.append((time.perf_counter() - t, time.process_time() - c))
    return tuple(np.median(np.array(times), axis=0))


def images(rounds: int) -> list[str]:
    """Table (a)."""
    import cv2
    from skimage.feature import match_template

    from convcli.engine import match
    from convcli.engine.match import score_map, score_map_naive

    def one_thread(t):
        threads, match.THREADS = match.THREADS, 1
        try:
            score_map(x, t)
        finally:
            match.THREADS = threads

    x = _photo()
    rows = [
        "| case | convcli | OpenCV | ratio | CPU ratio | one thread | scikit-image | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in SIZES:
        t = x[1200 : 1200 + k, 2000 : 2000 + k].copy()
        a, b = score_map(x, t), cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED)  # warm-up
        assert np.argmax(a) == np.argmax(b) == 1200 * a.shape[1] + 2000, k
        for i, j in ((0, 0), (1468, 3709), (2500, 100)):
            window = x[i : i + k, j : j + k]
            assert abs(a[i, j] - score_map_naive(window, t)[0, 0]) < 1e-4, k  # the bound
        match_template(x, t)
        ours, cv, sk, single = [], [], [], []
        for _ in range(rounds):
            cv.append(_median_time(lambda t=t: cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED), 3))
            sk.append(_median_time(lambda t=t: match_template(x, t), 1))
            ours.append(_median_time(lambda t=t: score_map(x, t), 3))
            single.append(_median_time(lambda t=t: one_thread(t), 3))
        ours, cv, sk, single = map(np.array, (ours, cv, sk, single))  # (rounds, 2): wall, CPU
        wall = ours[:, 0]
        rows.append(
            f"| {x.shape[1]}x{x.shape[0]} grey float32, template {k}x{k} | "
            f"{np.median(wall):.3f} s | {np.median(cv[:, 0]):.3f} s | "
            f"{np.median(wall / cv[:, 0]):.2f}x | {np.median(ours[:, 1] / cv[:, 1]):.2f}x | "
            f"{np.median(single[:, 0] / cv[:, 0]):.2f}x | "
            f"{np.median(sk[:, 0]):.3f} s | {np.median(wall / sk[:, 0]):.2f}x |"
        )
    return rows


def _timed(command, cwd, stdin=None) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MB, stdout) of a whole process, from GNU time."""
    t = time.perf_counter()
    p = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", *command],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if p.returncode:
        raise RuntimeError(f"{' '.join(command)}: {p.stderr.strip()}")
    user, system, peak = p.stderr.split()[-3:]
    return wall, float(user) + float(system), int(peak) / 1024, p.stdout


def _scene(seconds: float, rng) -> np.ndarray:
    """Mono 44.1 kHz: pieces of speech and of melody at random places and loudness, layered,
    in noise (so that no 12 s of it repeats)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    speech, rate = sf.read(ROOT / "samples" / "speech.wav")
    speech = resample_poly(speech, RATE, rate)
    melody = sf.read(ROOT / "samples" / "melody.flac")[0].mean(axis=1)
    n = int(seconds * RATE)
    out = 0.01 * rng.standard_normal(n)
    for source, gain in ((speech, 0.6), (melody, 0.3)):
        at = 0
        while at < n:
            length = int(rng.uniform(0.4, 2.0) * RATE)
            start = int(rng.integers(0, len(source) - length))
            piece = source[start : start + length][: n - at]
            out[at : at + len(piece)] += gain * rng.uniform(0.4, 1.0) * piece
            at += len(piece) + int(rng.uniform(0, 0.3) * RATE)
    return out / np.abs(out).max() * 0.9


def mp3_offset(aof: str) -> list[str]:
    """Table (b)."""
    import soundfile as sf

    rows = [
        "| whole process: 12 s excerpt in a 10-minute MP3 | time | CPU | offset | "
        "exact sample / agrees at 10 ms |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        x = _scene(600, np.random.default_rng(4))
        start = 9_583_337  # 217.309 s: not on a 10 ms frame
        sf.write(Path(tmp) / "long.mp3", x, RATE, format="MP3")
        sf.write(Path(tmp) / "excerpt.wav", x[start : start + 12 * RATE], RATE, subtype="PCM_16")
        ours = [python_match(["excerpt.wav", "long.mp3", "--json"], tmp) for _ in range(3)]
        found = json.loads(ours[0][3])[0]["position"]
        wall, cpu = (float(np.median([r[i] for r in ours])) for i in (0, 1))
        rows.append(
            f"| convcli match excerpt.wav long.mp3 | {wall:.2f} s | {cpu:.2f} s | {found} "
            f"({found / RATE:.4f} s) | {'yes' if found == start else f'no (cut at {start})'} |"
        )
        if not shutil.which(aof):
            rows.append(f"| audio-offset-finder | not run: {aof} not found | | | |")
            return rows
        settings = (([], "default, 16 ms frames"), (["--resolution", "80"], "10 ms frames"))
        for extra, what in settings:
            command = [aof, "--find-offset-of", "excerpt.wav", "--within", "long.mp3", "--json"]
            runs = [_timed(command + extra, tmp) for _ in range(3)]
            offset = json.loads(runs[0][3])["time_offset"]
            wall, cpu = (float(np.median([r[i] for r in runs])) for i in (0, 1))
            agrees = round(found / RATE, 2) == round(offset, 2)
            rows.append(
                f"| audio-offset-finder ({what}) | {wall:.2f} s | {cpu:.2f} s | {offset:.4f} s | "
                f"convcli's rounds to it: {'yes' if agrees else 'no'} |"
            )
    return rows


def python_match(args, cwd, stdin=None):
    return _timed([sys.executable, "-m", "convcli", "match", *args], cwd, stdin)


def _long_wav(folder: Path, minutes: float) -> int:
    """The long stereo WAV, written a block at a time, and the 5 s clip; the clip's start."""
    import soundfile as sf

    rng = np.random.default_rng(1)
    speech, _ = sf.read(ROOT / "samples" / "speech.wav")
    n, block = int(minutes * 60 * RATE), 1 << 20
    start = n // 2 + 12345
    with sf.SoundFile(folder / "long.wav", "w", RATE, 2, "PCM_16") as f:
        for b0 in range(0, n, block):
            i = np.arange(b0, min(n, b0 + block))
            left = speech[i % len(speech)] * 0.5
            right = speech[(i + 300) % len(speech)] * 0.5
            f.write(np.stack([left, right], 1) + 0.05 * rng.standard_normal((len(i), 2)))
    with sf.SoundFile(folder / "long.wav") as f:
        f.seek(start)
        sf.write(folder / "clip.wav", f.read(5 * RATE), RATE, subtype="PCM_16")
    return start


CASES = (
    ("top 1", []),
    ("--top 5 --subsample", ["--top", "5", "--subsample"]),
    ("--threshold 0.4", ["--threshold", "0.4"]),
    ("--map scores.npy (1.3 GB)", ["--map", "scores.npy"]),
    ("--mark plot.png", ["--mark", "plot.png"]),
    ("--delay", ["--delay"]),
    ("--align aligned.wav", ["--align", "aligned.wav"]),
)
PIPED = (
    ("pipe: top 1", []),
    ("pipe: --top 5 --map --mark", ["--top", "5", "--map", "scores.npy", "--mark", "plot.png"]),
    ("pipe: --align", ["--align", "aligned.wav"]),
)


def long_audio(minutes: float) -> list[str]:
    """Table (c)."""
    rows = [
        f"| 5 s clip in {minutes:g} min stereo 16-bit WAV | time | real time | CPU | "
        "peak RSS | first line |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        start = _long_wav(Path(tmp), minutes)
        python_match(["clip.wav", "clip.wav"], tmp)  # warm the imports
        for what, args in CASES + PIPED:
            if what.startswith("pipe"):
                cat = subprocess.Popen(["cat", "long.wav"], cwd=tmp, stdout=subprocess.PIPE)
                wall, cpu, peak, out = python_match(["clip.wav", "-", *args], tmp, cat.stdout)
                cat.wait()
            else:
                wall, cpu, peak, out = python_match(["clip.wav", "long.wav", *args], tmp)
            line = out.splitlines()[0] if out else ""
            exact = f"sample {start}" in line or f"{start} samples" in line
            rows.append(
                f"| {what} | {wall:.1f} s | {minutes * 60 / wall:.0f}x | {cpu:.1f} s | "
                f"{peak:.0f} MB | {'exact: ' if exact else ''}`{line.split(': ', 1)[-1]}` |"
            )
            for name in ("scores.npy", "plot.png", "aligned.wav"):
                Path(tmp, name).unlink(missing_ok=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--aof", default="audio-offset-finder")
    parser.add_argument("--only", default="images,mp3,long")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    only = args.only.split(",")
    load = os.getloadavg()[0]
    text = [f"Run at {time.strftime('%H:%M UTC', time.gmtime())} (load average {load:.1f}):", ""]
    if "images" in only:
        text += images(args.rounds) + [""]
    if "mp3" in only:
        text += mp3_offset(args.aof) + [""]
    if "long" in only:
        text += long_audio(args.minutes) + [""]
    out = "\n".join(text)
    print(out)
    if args.out:
        args.out.write_text(out)


if __name__ == "__main__":
    main()
