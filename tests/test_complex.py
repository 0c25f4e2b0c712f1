"""Complex signals end to end: the engine's methods, text, JSON and .npy, and the CLI's parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.engine import convolve, correlate, pad
from convcli.engine.direct import correlate_naive
from convcli.io.arrays import format_json, format_text, parse_json, parse_text

METHODS = ("auto", "direct", "fft")
RNG = np.random.default_rng(20)


def _c(*shape):
    return RNG.normal(size=shape) + 1j * RNG.normal(size=shape)


@pytest.mark.parametrize("method", METHODS)
def test_a_long_complex_signal_matches_numpy_on_every_method_including_overlap_add(method):
    x, w = _c(20_000), _c(101)  # auto takes overlap-add here
    np.testing.assert_allclose(convolve(x, w, method=method), np.convolve(x, w), atol=1e-9)
    np.testing.assert_allclose(
        convolve(x, w, "same", stride=3, dilation=2, method=method),
        np.convolve(x, _dilate(w, 2))[100:20_100][::3],
        atol=1e-9,
    )


def _dilate(w, d):
    out = np.zeros(d * (len(w) - 1) + 1, w.dtype)
    out[::d] = w
    return out


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_fast_paths_equal_the_naive_twin_for_complex_operands_and_every_pad_mode(data):
    n, k = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 4))
    s, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    p = data.draw(st.integers(0, 3))
    mode = data.draw(
        st.sampled_from(("zeros", "constant", "replicate", "symmetric", "reflect", "circular"))
    )
    real_x = data.draw(st.booleans())
    x = RNG.normal(size=n) if real_x else _c(n)
    w = _c(k)
    value = 1.5 if mode == "constant" else 0.0
    if (n + 2 * p - d * (k - 1) - 1) < 0 or (mode == "reflect" and n == 1 and p):
        return
    xp = pad(x, p, mode, value)
    want = correlate_naive(xp, w, 1, (s,), (d,))
    for method in METHODS:
        got = correlate(
            x, w, pad=p, pad_mode=mode, pad_value=value, stride=s, dilation=d, method=method
        )
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_gaussian_integers_are_exact_on_every_method_and_complex_float32_stays_single():
    x = RNG.integers(-1000, 1000, 5000) + 1j * RNG.integers(-1000, 1000, 5000)
    w = RNG.integers(-50, 50, 300) + 1j * RNG.integers(-50, 50, 300)
    exact = [complex(v) for v in np.convolve(x.astype(object), w.astype(object))]
    for method in METHODS:
        got = convolve(x, w, method=method)
        assert got.dtype == np.complex128 and got.tolist() == exact
    single = convolve(_c(50).astype(np.complex64), RNG.normal(size=5).astype(np.float32))
    assert single.dtype == np.complex64


def test_complex_filter_banks_and_2d_pad_modes_match_scipy():
    x, bank = _c(6, 7, 2), _c(3, 2, 3, 3)
    want = np.stack(
        [sum(ss.convolve(x[:, :, c], bank[f, c], "same") for c in range(2)) for f in range(3)],
        axis=-1,
    )
    np.testing.assert_allclose(convolve(x, bank, "same"), want, atol=1e-9)
    img, w = RNG.normal(size=(8, 9)), _c(3, 3)
    for method in METHODS:
        got = convolve(img, w, "same", pad_mode="circular", method=method)
        np.testing.assert_allclose(got, ss.convolve2d(img, w, "same", boundary="wrap"), atol=1e-9)


def test_constant_padding_of_complex_data_pads_the_real_part_with_the_value():
    got = convolve([1j, 2j], [1, 1], "same", pad_mode="constant", pad_value=3)
    assert got.tolist() == [3 + 1j, 3j]  # padding holds 3 + 0j, as np.pad pads it


def test_text_reads_numpy_and_python_forms_and_writes_what_it_reads():
    array, orientation = parse_text("1+2j (3-4j) 1.+2.j 5 -2.5j")
    assert array.tolist() == [1 + 2j, 3 - 4j, 1 + 2j, 5, -2.5j] and orientation == "row"
    text = format_text(array, orientation)
    assert text == "1+2j 3-4j 1+2j 5+0j 0-2.5j\n"
    assert parse_text(text)[0].tolist() == array.tolist()
    assert np.array([complex(t) for t in text.split()]).tolist() == array.tolist()


def test_json_writes_re_im_pairs_and_reads_complex_strings():
    assert json.loads(format_json(np.array([1 + 2j, 0.5 - 1j]))) == [[1, 2], [0.5, -1]]
    assert parse_json('["1+2j", 3]').tolist() == [1 + 2j, 3]
    assert parse_json("[[1, 2], [3, 4]]").dtype == np.int64  # pairs alone stay real channels


def test_conv1d_prints_complex_text_json_and_npy(cli, tmp_path):
    assert cli("conv1d", "-", "-k", "1,1j", input="1+2j 3").output == "1+2j 1+1j 0+3j\n"
    out = cli("conv1d", "-", "-k", "1,1j", "--to", "json", input="1 2").output
    assert json.loads(out) == [[1, 0], [2, 1], [0, 2]]
    np.save(tmp_path / "x.npy", np.array([1 + 1j, 2 - 1j], np.complex64))
    cli("conv1d", tmp_path / "x.npy", "-k", "1,-1", "-o", tmp_path / "y.npy")
    assert np.load(tmp_path / "y.npy").tolist() == [1 + 1j, 1 - 2j, -2 + 1j]


@pytest.mark.parametrize(
    ("flag", "want"),
    [("--real", "1 1 0"), ("--imag", "2 1 3"), ("--abs", "2.23606797749979 1.4142135623731 3")],
)
def test_real_imag_and_abs_keep_one_part(cli, flag, want):
    assert cli("conv1d", "-", "-k", "1,1j", flag, input="1+2j 3").output == want + "\n"


def test_two_parts_at_once_is_a_usage_error(runner):
    from convcli.cli import main

    result = runner.invoke(main, ["conv1d", "-", "-k", "1j", "--real", "--abs"], input="1")
    assert result.exit_code == 2 and "give one" in result.output


def test_audio_and_images_refuse_a_complex_result_and_take_a_part(cli, runner, tmp_path):
    import soundfile as sf
    from PIL import Image

    from convcli.cli import main

    sf.write(tmp_path / "a.wav", RNG.uniform(-0.3, 0.3, (3000, 2)), 8000)
    Image.fromarray(RNG.integers(0, 255, (12, 10, 3)).astype(np.uint8)).save(tmp_path / "a.png")
    for src, out in (("a.wav", "b.wav"), ("a.png", "b.png")):
        args = [
            "conv2d" if src.endswith("png") else "conv1d",
            str(tmp_path / src),
            "-k",
            "1 0.5j; 1 1" if src.endswith("png") else "1,0.5j",
        ]
        result = runner.invoke(main, [*args, "-o", str(tmp_path / out)])
        assert result.exit_code == 1 and not (tmp_path / out).exists()
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:")
        assert all(word in lines[0] for word in ("--real", "--abs", ".npy"))
        assert runner.invoke(main, [*args, "--imag", "-o", str(tmp_path / out)]).exit_code == 0
    cli("conv1d", tmp_path / "a.wav", "-k", "1,0.5j", "-o", tmp_path / "c.npy")
    assert np.load(tmp_path / "c.npy").dtype == np.complex128
