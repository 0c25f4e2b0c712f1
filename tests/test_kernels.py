"""Named kernels: each builds in its forms, with the sums and symmetries it promises."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

from convcli import kernels
from convcli.engine.direct import separable
from convcli.errors import ResourceError, SpecError
from convcli.kernels import make

SPECS = {
    "identity": "identity",
    "box": "box:5",
    "gaussian": "gaussian:sigma=1.5",
    "sobel-x": "sobel-x",
    "sobel-y": "sobel-y",
    "scharr-x": "scharr-x",
    "scharr-y": "scharr-y",
    "prewitt-x": "prewitt-x",
    "prewitt-y": "prewitt-y",
    "laplacian": "laplacian",
    "log": "log:sigma=1",
    "sharpen": "sharpen",
    "emboss": "emboss",
    "motion": "motion:length=7,angle=30",
    "disk": "disk:radius=3",
    "diff": "diff",
    "diff2": "diff2",
    "hann": "hann:9",
    "hamming": "hamming:9",
    "blackman": "blackman:9",
    "lowpass": "lowpass:cutoff=1000",
    "highpass": "highpass:cutoff=1000",
    "bandpass": "bandpass:low=300,high=3000",
    "echo": "echo:delay=0.01,decay=0.5",
}


def test_every_named_kernel_is_covered_here():
    assert set(SPECS) == set(kernels.KERNELS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_form_builds_finite_numbers(name):
    entry = kernels.KERNELS[name]
    for dims, builder in ((1, entry.one), (2, entry.two)):
        if builder is None:
            with pytest.raises(SpecError, match=f"no {dims}-D form"):
                kernels.make(SPECS[name], dims, rate=8000)
            continue
        k = kernels.make(SPECS[name], dims, rate=8000)
        assert k.ndim == dims and k.size >= 1 and np.isfinite(k).all()


@pytest.mark.parametrize(
    "spec",
    [
        "box:5",
        "gaussian:sigma=2",
        "disk:radius=4",
        "motion:length=9",
        "hann:11",
        "lowpass:cutoff=500",
    ],
)
def test_smoothing_kernels_keep_brightness(spec):
    k = kernels.make(spec, rate=8000)
    assert k.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "spec",
    ["sobel-x", "sobel-y", "scharr-x", "prewitt-y", "laplacian", "log:sigma=2", "diff", "diff2"],
)
def test_derivative_kernels_sum_to_zero(spec):
    assert kernels.make(spec, rate=8000).sum() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("spec", ["box:5", "gaussian:sigma=2", "sobel-x", "prewitt-y"])
def test_blurs_and_gradients_are_separable(spec):
    assert separable(kernels.make(spec, 2)) is not None
    assert separable(kernels.make("disk:radius=3", 2)) is None


def test_sobel_x_is_positive_where_the_image_brightens_to_the_right():
    from convcli import convolve

    ramp = np.tile(np.arange(8.0), (8, 1))
    assert (convolve(ramp, kernels.make("sobel-x"), "valid") > 0).all()


@pytest.mark.parametrize(
    "spec,message",
    [
        ("nosuch", "unknown kernel 'nosuch'"),
        ("gaussian", "missing parameter sigma="),
        ("gaussian:sigma=-1", "sigma must be a positive number"),
        ("box:2.5", "whole number"),
        ("box:3,colour=red", "unknown parameter colour="),
        ("lowpass:cutoff=100", "needs a sample"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(SpecError, match=message):
        kernels.make(spec)


def test_a_highpass_blocks_dc_to_minus_60_db():
    assert abs(kernels.make("highpass:cutoff=1000", rate=8000).sum()) < 1e-3


# --- sized before they are built


@pytest.mark.parametrize(
    "spec",
    [
        "gaussian:sigma=8000",
        "disk:radius=1e9",
        "log:sigma=5000",
        "motion:length=20000",
        "box:1000000",
        "gaussian:sigma=1e300",
    ],
)
def test_huge_2d_kernels_are_refused_in_a_real_process_well_under_a_second(spec):
    args = [sys.executable, "-m", "convcli", "conv2d", "-", "-k", spec]
    start = time.monotonic()
    p = subprocess.run(
        args,
        input="1 2\n3 4\n",
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert time.monotonic() - start < 5  # start-up included; the check itself takes microseconds
    assert p.returncode == 1
    assert p.stderr.startswith(f"Error: {spec}: a ") and "kernel is too large" in p.stderr


@pytest.mark.parametrize("spec,rate", [("gaussian:sigma=1e12", None), ("echo:delay=1e9", 44100.0)])
def test_1d_kernels_beyond_available_memory_are_refused(spec, rate):
    start = time.monotonic()
    with pytest.raises(ResourceError, match="would need about .* available"):
        make(spec, dims=1, rate=rate)
    assert time.monotonic() - start < 0.5


def test_kernels_up_to_the_limit_still_build():
    assert make("gaussian:sigma=600").shape == (3601, 3601)
    assert make("motion:length=9,angle=45").shape == (9, 9)
    with pytest.raises(SpecError, match="size must be a whole number"):
        make("gaussian:sigma=1,size=2.5")
