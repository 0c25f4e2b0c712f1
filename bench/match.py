"""``convcli match`` against OpenCV and scikit-image, and on long audio.

In-process: a 12-megapixel grey float32 photo (chelsea.png resized by libvips), templates
of 32x32, 64x64 and 256x256 cut from it, TM_CCOEFF_NORMED. Each library is timed in a
block of its own (OpenCV first, all its runs together, then scikit-image, then convcli),
best of ``--repeat`` runs; ratios are convcli's time over theirs, in the same run.
Whole process: a 5 s clip found in a long stereo WAV, with peak memory.

    python bench/match.py [--repeat 5] [--minutes 60] [--out bench/results/match.md]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = (32, 64, 256)


def _photo() -> np.ndarray:
    import pyvips

    src = pyvips.Image.new_from_file(str(ROOT / "samples" / "chelsea.png")).colourspace("b-w")
    big = src.resize(4000 / src.width, vscale=3000 / src.height)
    return (
        big.numpy().astype(np.float32)[..., 0] if big.bands > 1 else big.numpy().astype(np.float32)
    )


def _best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def images(repeat: int) -> list[tuple]:
    import cv2
    from skimage.feature import match_template

    from convcli.engine.match import score_map, score_map_naive

    x = _photo()
    templates = {k: x[1200 : 1200 + k, 2000 : 2000 + k].copy() for k in SIZES}
    opencv = {
        k: _best(lambda t=t: cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED), repeat)
        for k, t in templates.items()
    }
    skimage = {
        k: _best(lambda t=t: match_template(x, t), max(1, repeat // 2))
        for k, t in templates.items()
    }
    ours = {k: _best(lambda t=t: score_map(x, t), repeat) for k, t in templates.items()}
    for k, t in templates.items():  # the same best match; convcli's r is the naive twin's
        a, b = score_map(x, t), cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED)
        assert np.argmax(a) == np.argmax(b) == 1200 * a.shape[1] + 2000, k
        for i, j in ((0, 0), (1468, 3709), (2500, 100)):
            window = x[i : i + k, j : j + k]
            assert abs(a[i, j] - score_map_naive(window, t)[0, 0]) < 1e-5, k
    return [
        (
            f"{x.shape[1]}x{x.shape[0]} grey float32, template {k}x{k}",
            ours[k],
            opencv[k],
            skimage[k],
        )
        for k in SIZES
    ]


def audio(minutes: float) -> tuple:
    """A 5 s clip cut from the middle of a long stereo WAV (speech tiled, in noise), found by
    a whole ``convcli match`` process: seconds, peak RSS in MB, and whether it is exact."""
    import soundfile as sf

    rate = 44100
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(1)
        speech, _ = sf.read(ROOT / "samples" / "speech.wav")
        n, block = int(minutes * 60 * rate), 1 << 20
        start = n // 2 + 12345
        path, clip = Path(tmp) / "long.wav", Path(tmp) / "clip.wav"
        with sf.SoundFile(path, "w", rate, 2, "PCM_16") as f:  # written a block at a time
            for b0 in range(0, n, block):
                i = np.arange(b0, min(n, b0 + block))
                left = speech[i % len(speech)] * 0.5
                right = speech[(i + 300) % len(speech)] * 0.5
                f.write(np.stack([left, right], 1) + 0.05 * rng.standard_normal((len(i), 2)))
        with sf.SoundFile(path) as f:
            f.seek(start)
            sf.write(clip, f.read(5 * rate), rate, subtype="PCM_16")
        t = time.perf_counter()  # GNU time's %M: the child's own peak (a fork would count ours)
        command = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "convcli", "match"]
        p = subprocess.run(
            command + [str(clip), str(path)], capture_output=True, text=True, check=True
        )
        seconds = time.perf_counter() - t
    peak = int(p.stderr.split()[-1]) / 1024
    found = int(p.stdout.split("sample ")[1].split()[0])
    return minutes, seconds, peak, found == start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = [
        "| case | convcli | OpenCV | ratio | scikit-image | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case, ours, cv, sk in images(args.repeat):
        rows.append(
            f"| {case} | {ours:.3f} s | {cv:.3f} s | {ours / cv:.2f}x | {sk:.3f} s | "
            f"{ours / sk:.2f}x |"
        )
    minutes, seconds, peak, exact = audio(args.minutes)
    rows += [
        "",
        "| whole process | time | real time | peak RSS | found at the sample |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| 5 s clip in {minutes:g} min stereo 16-bit WAV | {seconds:.2f} s | "
        f"{minutes * 60 / seconds:.0f}x | {peak:.0f} MB | {'yes' if exact else 'no'} |",
    ]
    text = "\n".join(rows) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
