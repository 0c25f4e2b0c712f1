"""Named kernels are sized from their parameters and refused before they are built."""

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from convcli.errors import ResourceError, SpecError
from convcli.kernels import make


@pytest.mark.parametrize("spec", ["gaussian:sigma=8000", "disk:radius=1e9", "log:sigma=5000",
                                  "motion:length=20000", "box:1000000", "gaussian:sigma=1e300"])
def test_huge_2d_kernels_are_refused_in_a_real_process_well_under_a_second(spec):
    args = [sys.executable, "-m", "convcli", "conv2d", "-", "-k", spec]
    start = time.monotonic()
    p = subprocess.run(args, input="1 2\n3 4\n", capture_output=True, text=True, timeout=20,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert time.monotonic() - start < 5  # start-up included; the check itself takes microseconds
    assert p.returncode == 1
    assert p.stderr.startswith(f"Error: {spec}: a ") and "kernel is too large" in p.stderr


@pytest.mark.parametrize("spec,rate", [("gaussian:sigma=1e12", None),
                                       ("echo:delay=1e9", 44100.0)])
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
