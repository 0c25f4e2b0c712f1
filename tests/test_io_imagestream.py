"""Images in strips through libvips: the engine's numbers, flat memory."""

import subprocess
import sys

import numpy as np
import pytest
import pyvips

from convcli import convolve, correlate

GRAY = (np.random.default_rng(0).random((37, 53)) * 255).astype(np.uint8)
RGBA = (np.random.default_rng(1).random((29, 31, 4)) * 255).astype(np.uint8)


def _expected(x, kernel, args):
    """The exact result, rounded (ties to even) and clipped as convcli writes: the whole
    numbers ``k`` through the engine's exact integer path, divided once by ``q``."""
    k, q = kernel
    options = {"pad_mode": "replicate", **args}  # image files' default padding
    op = correlate if options.pop("correlate", False) else convolve
    if "pad_value" in options:
        options["pad_value"] = int(options["pad_value"])
    y = op(x.astype(np.int64), k, ndim=2, method="direct", **options)
    assert y.dtype == np.int64  # exact
    return np.clip(np.rint(y / q), 0, 255).astype(np.uint8)


def _flags(args):
    flags = []
    for key, value in args.items():
        if key == "correlate":
            flags.append("--correlate")
            continue
        value = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        flags += [f"--{key.replace('_', '-')}", value]
    return flags


CASES = [
    {"mode": "same"},
    {"mode": "full"},
    {"mode": "valid"},
    {"pad": (2, 1, 0, 3)},
    {"pad": (1,), "stride": (2, 3)},
    {"mode": "same", "pad_mode": "replicate"},
    {"mode": "full", "pad_mode": "symmetric"},
    {"mode": "same", "pad_mode": "reflect"},
    {"mode": "full", "pad_mode": "circular"},
    {"mode": "same", "pad_mode": "constant", "pad_value": 200},
    {"mode": "same", "dilation": (2, 3)},
    {"mode": "valid", "stride": (3, 2), "dilation": (2, 1)},
    {"mode": "same", "correlate": True, "pad_mode": "replicate"},
]
KERNELS = {  # (whole numbers, their denominator): every sum has an exact rounding
    "odd": (np.array([[1, 2, 1], [0, 3, -1], [2, 0, 1]]), 9),
    "even": (np.array([[4, -8, 2, 12], [1, 4, -4, 8]]), 12),  # ties at x.5 are common
    "separable": (np.outer([1, 4, 6, 4, 1], [1, 2, 1]), 64),
    "whole numbers": (np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 2]]), 1),
}


@pytest.mark.parametrize("args", CASES, ids=lambda a: "-".join(f"{k}={v}" for k, v in a.items()))
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_strips_give_the_whole_image_engine_result(cli, tmp_path, args, name):
    kernel = KERNELS[name]
    np.save(tmp_path / "k.npy", kernel[0] / kernel[1])
    pyvips.Image.new_from_array(GRAY).write_to_file(str(tmp_path / "g.png"))
    result = cli(
        "conv2d",
        tmp_path / "g.png",
        "-k",
        tmp_path / "k.npy",
        "-o",
        tmp_path / "y.png",
        *_flags(args),
    )
    assert result.exit_code == 0, result.output
    got = pyvips.Image.new_from_file(str(tmp_path / "y.png")).numpy()
    np.testing.assert_array_equal(got, _expected(GRAY, kernel, args))


def test_colour_channels_filtered_alike_and_alpha_resampled(cli, tmp_path):
    pyvips.Image.new_from_array(RGBA).copy(interpretation="srgb").write_to_file(
        str(tmp_path / "c.png")
    )
    kernel = KERNELS["separable"]
    np.save(tmp_path / "k.npy", kernel[0] / kernel[1])
    result = cli(
        "conv2d",
        tmp_path / "c.png",
        "-k",
        tmp_path / "k.npy",
        "--stride",
        "2",
        "-o",
        tmp_path / "y.png",
    )
    assert result.exit_code == 0, result.output
    got = pyvips.Image.new_from_file(str(tmp_path / "y.png")).numpy()
    expected = _expected(RGBA[..., :3], kernel, {"mode": "same", "stride": (2, 2)})
    np.testing.assert_array_equal(got[..., :3], expected)
    np.testing.assert_array_equal(got[..., 3], RGBA[::2, ::2, 3])


def test_whole_number_kernels_take_the_integer_path_unless_post_processed():
    from convcli.routes import strips as imagestream
    from convcli.settings import ConvSettings

    im = pyvips.Image.new_from_array(GRAY)
    sharpen = KERNELS["whole numbers"][0]
    assert imagestream.exact_in_integers(im, sharpen, ConvSettings("x", 2), False)
    assert not imagestream.exact_in_integers(
        im, sharpen, ConvSettings("x", 2, absolute=True), False
    )
    assert not imagestream.exact_in_integers(im, sharpen / 2, ConvSettings("x", 2), False)
    assert not imagestream.exact_in_integers(
        im.cast("ushort"), sharpen, ConvSettings("x", 2), False
    )


def test_a_strip_route_is_the_one_taken(cli, tmp_path, monkeypatch):
    from convcli.routes import rows
    from convcli.routes import strips as imagestream

    taken = []
    original = imagestream.convolve_image
    monkeypatch.setattr(imagestream, "convolve_image", lambda *a: taken.append(1) or original(*a))
    original_rows = rows._write_pixels
    monkeypatch.setattr(rows, "_write_pixels", lambda *a: taken.append(2) or original_rows(*a))
    pyvips.Image.new_from_array(GRAY).write_to_file(str(tmp_path / "g.png"))
    assert cli("conv2d", tmp_path / "g.png", "-k", "box:3", "-o", tmp_path / "y.png").exit_code == 0
    assert cli("conv2d", tmp_path / "g.png", "-k", "box:3", "-o", tmp_path / "y.tif").exit_code == 0
    assert taken == [2, 1]  # compiled strips; libvips's for one band of float samples


def _peak_kb(command) -> int:
    """Peak RSS of a command, measured in a fresh parent so no earlier child counts."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    p = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.split()[-1])


def test_peak_memory_stays_flat_for_a_large_image(tmp_path):
    """A 48-megapixel RGB PNG blurs in well under the 580 MB its float copy would take."""
    big = pyvips.Image.gaussnoise(8000, 6000, mean=128, sigma=40).cast("uchar")
    big = big.bandjoin([big, big]).copy(interpretation="srgb")
    big.write_to_file(str(tmp_path / "big.png[compression=1]"))
    peak_kb = _peak_kb(
        [
            sys.executable,
            "-m",
            "convcli",
            "conv2d",
            str(tmp_path / "big.png"),
            "-k",
            "box:5",
            "-o",
            str(tmp_path / "out.png"),
        ]
    )
    assert peak_kb < 150_000, f"peak {peak_kb / 1024:.0f} MB"
    out = pyvips.Image.new_from_file(str(tmp_path / "out.png"))
    assert (out.width, out.height, out.bands) == (8000, 6000, 3)
