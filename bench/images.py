"""Images against libvips, ImageMagick and OpenCV: whole processes with peak memory, the
engine in-process, and peak memory against image size up to a gigapixel.

Called from bench/run.py (``--only image``); photos are chelsea.png resized by libvips.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
RANDOM15 = np.random.default_rng(7).random((15, 15)) / 112.5


def _photo(folder: Path, width: int, height: int, ext: str) -> Path:
    import pyvips

    path = folder / f"photo-{width}x{height}.{ext}"
    if not path.exists():
        src = pyvips.Image.new_from_file(str(ROOT / "samples" / "chelsea.png"))
        big = src.resize(width / src.width, vscale=height / src.height)
        options = "[compression=1]" if ext == "png" else "[Q=92]" if ext == "jpg" else ""
        big.write_to_file(str(path) + options)
    return path


def _mask(folder: Path, name: str, w: np.ndarray) -> Path:
    """A libvips matrix file: 'width height scale offset', then the rows."""
    path = folder / f"{name}.mat"
    rows = "\n".join(" ".join(f"{v:.17g}" for v in r) for r in w)
    path.write_text(f"{w.shape[1]} {w.shape[0]} 1 0\n{rows}\n")
    return path


def _jobs(folder: Path):
    """(name, convcli -k, the vips command's operation and arguments)."""
    from convcli.kernels import make

    box = np.full((5, 5), 1 / 25)
    np.save(folder / "random15.npy", RANDOM15)
    gauss = make("gaussian:sigma=5", 1)[None, :]  # the same 31 taps, float, as convcli's
    return [
        ("5x5 box", "box:5", ["conv", _mask(folder, "box", box)]),
        ("Gaussian sigma 5", "gaussian:sigma=5", ["gaussblur", "5"]),
        (
            "Gaussian sigma 5, same 31-tap float mask",
            "gaussian:sigma=5",
            ["convsep", _mask(folder, "gauss31", gauss), "--precision", "float"],
        ),
        (
            "5x5 box, vips in integers",
            "box:5",
            ["conv", _mask(folder, "box", box), "--precision", "integer"],
        ),
        ("3x3 sharpen", "sharpen", ["conv", _mask(folder, "sharpen", SHARPEN)]),
        (
            "3x3 sharpen, vips in integers",
            "sharpen",
            ["conv", _mask(folder, "sharpen", SHARPEN), "--precision", "integer"],
        ),
        (
            "random 15x15",
            str(folder / "random15.npy"),
            ["conv", _mask(folder, "random15", RANDOM15)],
        ),
    ]


def vips_rows(quick, folder, processes, skip):
    if not shutil.which("vips"):
        skip("images", "vips", "libvips-tools is not installed (apt-get install libvips-tools)")
        return
    sizes = [(4000, 3000)] + ([] if quick else [(8000, 6000)])
    for width, height in sizes:
        for ext in ("png", "jpg"):
            photo = _photo(folder, width, height, ext)
            out = folder / f"out.{ext}"
            save = "[compression=1]" if ext == "png" else "[Q=92]"
            for name, kernel, (op, *args) in _jobs(folder):
                ours = [
                    sys.executable,
                    "-m",
                    "convcli",
                    "conv2d",
                    str(photo),
                    "-k",
                    kernel,
                    "-o",
                    str(out),
                ]
                theirs = [
                    "vips",
                    op,
                    str(photo),
                    str(folder / f"vips.{ext}") + save,
                    *map(str, args),
                ]
                processes(
                    f"{width * height / 1e6:.0f} MP RGB {ext.upper()}, {name}",
                    f"vips {op}",
                    ours,
                    theirs,
                    1 if quick else 3,
                )


def magick_rows(quick, folder, processes, skip):
    if (
        not shutil.which("convert")
        or b"ImageMagick" not in subprocess.run(["convert", "-version"], capture_output=True).stdout
    ):
        skip("images", "ImageMagick", "ImageMagick is not installed (apt-get install imagemagick)")
        return
    photo = _photo(folder, 4000, 3000, "png")
    for name, kernel, spec in [
        ("5x5 box", "box:5", "5x5:" + ",".join(["0.04"] * 25)),
        ("3x3 sharpen", "sharpen", "3x3:0,-1,0,-1,5,-1,0,-1,0"),
    ]:
        ours = [
            sys.executable,
            "-m",
            "convcli",
            "conv2d",
            str(photo),
            "-k",
            kernel,
            "--pad-mode",
            "replicate",
            "-o",
            str(folder / "out.png"),
        ]
        theirs = [
            "convert",
            str(photo),
            "-morphology",
            "Convolve",
            spec,
            "-define",
            "png:compression-level=1",
            str(folder / "im.png"),
        ]
        processes(f"12 MP RGB PNG, {name}", "convert -morphology Convolve", ours, theirs, 1)


def opencv_rows(quick, row, skip):
    """The engine on a 12 MP float32 image against cv2.filter2D, each in a block of its own
    (OpenCV's thread pool spins after each call and slows whatever runs next)."""
    try:
        import cv2
    except ImportError:
        skip("engine, 12 MP float32", "cv2.filter2D", "pip install opencv-python-headless")
        return
    from convcli import convolve
    from convcli.kernels import make

    x = np.random.default_rng(0).random((3000, 4000)).astype(np.float32)
    kernels = {
        "5x5 box": np.full((5, 5), 1 / 25, np.float32),
        "31x31 Gaussian": make("gaussian:sigma=5", 2).astype(np.float32),
        "random 15x15": RANDOM15.astype(np.float32),
    }
    rounds = 3 if quick else 7
    ours = {}
    for name, w in kernels.items():
        convolve(x, w, "same")
        ours[name] = _times(lambda w=w: convolve(x, w, "same"), rounds)
    cv2.setNumThreads(2)
    for name, w in kernels.items():
        flipped = np.ascontiguousarray(w[::-1, ::-1])  # filter2D correlates

        def theirs(flipped=flipped):
            cv2.filter2D(x, -1, flipped, borderType=cv2.BORDER_CONSTANT)

        theirs()
        row(
            f"engine, 12 MP float32, {name}, same",
            "cv2.filter2D (zero border)",
            ours[name],
            _times(theirs, rounds),
        )


def _times(f, rounds):
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return out


def memory_rows(quick, folder, timed_process, row):
    """Peak memory against image size: a Gaussian blur of TIFFs up to 40000x25000 RGB."""
    import pyvips

    sizes = [(4000, 3000), (8000, 6000)] + ([] if quick else [(20000, 10000), (40000, 25000)])
    for width, height in sizes:
        path = folder / f"big-{width}x{height}.tif"
        tile = pyvips.Image.new_from_file(str(ROOT / "samples" / "chelsea.png"))
        tile.replicate(width // tile.width + 1, height // tile.height + 1).crop(
            0, 0, width, height
        ).write_to_file(str(path))
        ours = [
            sys.executable,
            "-m",
            "convcli",
            "conv2d",
            str(path),
            "-k",
            "gaussian:sigma=5",
            "-o",
            str(folder / "big-out.tif"),
        ]
        theirs = ["vips", "gaussblur", str(path), str(folder / "big-vips.tif"), "5"]
        (a, am), (b, bm) = timed_process(ours), timed_process(theirs)
        row(
            f"memory vs size: {width}x{height} RGB TIFF ({width * height / 1e6:,.0f} MP), "
            "Gaussian sigma 5",
            "vips gaussblur",
            [a],
            [b],
            am,
            bm,
        )
        for p in folder.glob("big*.tif"):
            p.unlink()
    kernel_rows(quick, folder, timed_process, row)


def kernel_rows(quick, folder, timed_process, row):
    """Peak memory against kernel size and output format on a 48 MP photo."""
    photo = _photo(folder, 8000, 6000, "png")
    rng = np.random.default_rng(40)
    jobs = [("gaussian:sigma=5", "npy"), ("random40", "png")]
    jobs += [] if quick else [("random255", "png")]  # minutes: 692 tiles of a 509x526 DFT
    for kernel, ext in jobs:
        if kernel.startswith("random"):
            n = int(kernel[6:])
            np.save(folder / f"{kernel}.npy", rng.random((n, n)) / (n * n / 2))
            name, kernel = f"random {n}x{n}", str(folder / f"{kernel}.npy")
        else:
            name = kernel
        out = folder / f"kernel-out.{ext}"
        command = [sys.executable, "-m", "convcli", "conv2d", str(photo), "-k", kernel]
        seconds, mb = timed_process([*command, "-o", str(out)])
        work = f"memory vs kernel: 48 MP PNG, {name} -> .{ext}"
        row(work, "(no peer)", [seconds], [seconds], mb, mb, note="peak memory only")
        out.unlink(missing_ok=True)


def bench(quick, folder, row, skip, processes, timed_process):
    vips_rows(quick, folder, processes, skip)
    magick_rows(quick, folder, processes, skip)
    memory_rows(quick, folder, timed_process, row)
    opencv_rows(quick, row, skip)
