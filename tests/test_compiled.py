"""The compiled strips (OpenCV passes, tile by tile): the engine's numbers, and pixels that
round as the exact or the float64 result rounds."""

from pathlib import Path

import numpy as np
import pytest
import pyvips

from convcli import convolve, correlate
from convcli.engine import compiled
from convcli.geometry import axes
from convcli.job import pixels
from convcli.kernels import make
from convcli.settings import ConvSettings

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MODES = ["zeros", "constant", "replicate", "symmetric", "reflect", "circular"]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_correlate_valid_matches_the_naive_windows(dtype):
    rng = np.random.default_rng(0)
    for trial in range(40):
        h, w, kh, kw = (int(v) for v in rng.integers(1, 9, 4))
        channels = int(rng.integers(1, 6))
        x = (rng.random((h + kh - 1, w + kw - 1, channels)) * 200).astype(dtype)
        wf = np.outer(rng.random(kh), rng.random(kw)) if trial % 2 else rng.normal(size=(kh, kw))
        got = compiled.correlate_valid(x, wf, np.float64)
        want = compiled.correlate_valid_naive(x, wf)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3, err_msg=str((h, w, kh, kw)))


def _settings(rng, kind):
    return {
        "mode": str(rng.choice(["full", "same", "valid"])),
        "pad_mode": str(rng.choice(MODES)),
        "pad_value": 3.0 if kind == "float" else 7,
        "stride": tuple(int(v) for v in rng.integers(1, 4, 2)),
        "dilation": tuple(int(v) for v in rng.integers(1, 3, 2)),
    }


def test_tiles_give_the_engine_result_on_every_geometry(monkeypatch):
    """Tiny tiles (every strip cut in columns too) against the whole-array engine."""
    monkeypatch.setattr(compiled, "STRIP_BYTES", 3000)
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 150:
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        kh, kw = (int(v) for v in rng.integers(1, 9, 2))
        options = _settings(rng, "float")
        try:
            geometry = axes((h, w), (kh, kw), options["mode"], **_geo(options))
        except ValueError:
            continue
        if min(ax.length for ax in geometry) < 1 or (
            options["pad_mode"] == "reflect" and any(ax.before >= ax.n for ax in geometry)
        ):
            continue
        x = rng.integers(0, 256, (h, w, 4)).astype(np.uint8)
        wf = rng.normal(size=(kh, kw))
        strips = compiled.Strips(
            x.shape, wf, geometry, options["pad_mode"], 7, 3, np.float64, np.uint8
        )
        parts = list(compiled.run_strips(strips, lambda index, x=x: x[index]))
        y = np.concatenate([p[0] for p in parts])
        alpha = np.concatenate([p[1] for p in parts])
        engine = {**options, "pad_value": 7}
        want = correlate(x[..., :3].astype(np.float64), wf, ndim=2, **engine)
        np.testing.assert_allclose(y, want, rtol=1e-9, atol=1e-9, err_msg=str(options))
        delta = np.zeros(wf.shape)  # alpha: resampled as the memory route resamples it
        delta[tuple((np.array(wf.shape) - 1) // 2)] = 1
        if options["dilation"] == (1, 1):
            resampled = convolve(x[..., 3], delta.astype(int), ndim=2, method="direct", **engine)
            np.testing.assert_array_equal(alpha[..., 0], resampled)
        checked += 1


def _geo(options):
    return {"stride": options["stride"], "dilation": options["dilation"]}


def _exact_rounded(x, k, q, **options):
    y = correlate(x.astype(np.int64), k.astype(np.int64), ndim=2, method="direct", **options)
    assert y.dtype == np.int64
    return np.clip(np.rint(y / q), 0, 255)


@pytest.mark.parametrize(
    "k,q",
    [
        (np.ones((4, 4)), 16),  # box:4, where 1 in 16 sums is a tie
        (np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]), 256),
        (np.array([[4, -8, 2, 12], [1, 4, -4, 8]]), 12),
        (np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), 1),
        (np.ones((13, 12)), 156),  # big enough for a transform
    ],
)
def test_kernels_of_whole_numbers_over_a_denominator_round_as_the_exact_result(k, q):
    x = np.random.default_rng(2).integers(0, 256, (60, 70, 3)).astype(np.float32)
    settings = ConvSettings("k", ndim=2, correlate=True, pad_mode="replicate")
    y, _ = pixels.convolve_array(x, None, k / q, settings, {"format": "uchar"}, "png")
    got = np.clip(np.rint(y.astype(np.float64)), 0, 255)
    np.testing.assert_array_equal(got, _exact_rounded(x, k, q, mode="same", pad_mode="replicate"))


def _photo(name):
    return pyvips.Image.new_from_file(str(SAMPLES / name)).numpy().astype(np.float32)


def _random_photo():
    return np.random.default_rng(3).integers(0, 256, (300, 400, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "kernel",
    ["gaussian:sigma=2", "gaussian:sigma=5", "random15", "random40", "log:sigma=1.4"],
)
@pytest.mark.parametrize("photo", ["chelsea.png", "camera.png", "random", "random16"])
def test_pixels_are_the_float64_result_rounded_but_on_fewer_than_1_in_10000(photo, kernel):
    """The contract for kernels of irrational taps: each pixel is the float64 result
    rounded, or within 1 of it, and then on fewer than 1 pixel in 10,000 (8 and 16 bits)."""
    x = _random_photo() if photo.startswith("random") else _photo(photo)
    top, meta = (65535, {"format": "ushort"}) if photo == "random16" else (255, {"format": "uchar"})
    if top > 255:
        x = np.clip(x * 257 + np.random.default_rng(5).integers(-128, 129, x.shape), 0, top)
    if kernel.startswith("random"):
        n = int(kernel[6:])
        w = np.random.default_rng(n).random((n, n))
        w /= w.sum()
    else:
        w = make(kernel, 2)
    settings = ConvSettings("k", ndim=2, pad_mode="replicate")
    y, _ = pixels.convolve_array(x, None, w, settings, meta, "png")
    got = np.clip(np.rint(y.astype(np.float64)), 0, top)
    want = np.clip(np.rint(convolve(x.astype(np.float64), w, "same", pad_mode="replicate")), 0, top)
    differ = got != want
    assert np.abs(got - want).max() <= 1
    assert differ.sum() < max(1, got.size / 10_000), f"{differ.sum()} of {got.size}"


def test_pixel_route_and_memory_route_share_one_predicate():
    meta = {"bands": 3, "alpha": False, "format": "uchar", "interpretation": "srgb"}
    box = make("box:5", 2)
    assert pixels.applies(box, ConvSettings("k", ndim=2, pad_mode="zeros"), meta, "jpg")
    for refused in [{"real": True}, {"method": "fft"}, {"steps": True}]:
        settings = ConvSettings("k", ndim=2, pad_mode="zeros", **refused)
        assert not pixels.applies(box, settings, meta, "jpg"), refused
    assert not pixels.applies(box, ConvSettings("k", ndim=2), {**meta, "format": "float"}, "png")
    grey = {**meta, "bands": 1}
    assert not pixels.applies(box, ConvSettings("k", ndim=2, pad_mode="zeros"), grey, "tiff")


def test_float32_images_in_process_keep_their_size_and_the_engine_numbers(monkeypatch):
    from convcli.engine import keepsize

    monkeypatch.setattr(keepsize, "MIN_THREADED", 500)  # halves on two threads, small inputs
    rng = np.random.default_rng(4)
    taken = []
    original = keepsize.correlate_same
    monkeypatch.setattr(keepsize, "correlate_same", lambda *a: taken.append(1) or original(*a))
    for trial in range(200):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        kh, kw = (int(v) for v in rng.integers(1, 9, 2))
        channels = int(rng.integers(0, 5))
        x = rng.random((h, w, channels) if channels else (h, w)).astype(np.float32)
        k = rng.normal(size=(kh, kw)) if trial % 2 else np.outer(rng.random(kh), rng.random(kw))
        mode = str(rng.choice(["zeros", "constant", "replicate", "reflect", "symmetric"]))
        if mode == "reflect" and (kh > h or kw > w):
            continue
        options = {"pad_mode": mode, "pad_value": 0.5}
        got = convolve(x, k.astype(np.float32), "same", **options)
        want = convolve(x.astype(np.float64), k, "same", method="direct", **options)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * (1 + np.abs(want).max()))
    assert len(taken) > 100


def test_a_photo_job_draws_a_bar_on_a_terminal_and_nowhere_else(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    pyvips.Image.gaussnoise(600, 400).cast("uchar").write_to_file(str(tmp_path / "x.png"))
    command = [sys.executable, "-m", "convcli", "conv2d", str(tmp_path / "x.png"), "-k", "box:3"]

    def on_a_terminal(*flags):
        leader, follower = pty.openpty()
        p = subprocess.run([*command, *flags, "-o", str(tmp_path / "y.png")], stderr=follower)
        os.close(follower)
        drawn = os.read(leader, 65536).decode()
        os.close(leader)
        assert p.returncode == 0
        return drawn

    drawn = on_a_terminal()
    assert "filtering [" in drawn and "100% 400/400" in drawn
    piped = subprocess.run([*command, "-o", str(tmp_path / "z.png")], capture_output=True)
    assert piped.returncode == 0 and piped.stderr == b""
