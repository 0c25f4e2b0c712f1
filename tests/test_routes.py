"""One plan per input, one table of routes: each input read once, one result whatever the
route."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
import pyvips
import soundfile as sf

from convcli import routes
from convcli.routes import blocks, chunks, strips
from convcli.settings import ConvSettings


def test_every_row_of_the_table_is_a_module_that_accepts_and_runs():
    assert [r.name for r in routes.ROUTES][-1] == "memory"
    for route in routes.ROUTES:
        module = importlib.import_module(f"convcli.routes.{route.module}")
        assert callable(module.accepts) and callable(module.run), route


def _counting(monkeypatch, module, name, calls):
    original = getattr(module, name)

    def counted(*args, **kw):
        calls.append(name)
        return original(*args, **kw)

    monkeypatch.setattr(module, name, counted)


@pytest.mark.parametrize(
    "kernel,out",
    [("box:3", "y.png"), ("gaussian:sigma=9", "y.jpg"), (f"{'1 ' * 40};" * 40, "y.png")],
)
def test_an_image_is_opened_once_and_its_kernel_loaded_once(tmp_path, monkeypatch, kernel, out):
    from convcli.io import image, kernelfile

    pyvips.Image.new_from_array(np.zeros((60, 70, 3), np.uint8)).write_to_file(
        str(tmp_path / "x.png")
    )
    calls = []
    _counting(monkeypatch, image, "load", calls)
    _counting(monkeypatch, kernelfile, "load_kernel", calls)
    routes.convolve_file(
        str(tmp_path / "x.png"), str(tmp_path / out), ConvSettings(kernel.rstrip(";"), ndim=2)
    )
    assert sorted(calls) == ["load", "load_kernel"]


def _by_route(monkeypatch, forced, source, settings, ext):
    """The output file of ``source`` when every route before ``forced`` refuses it."""
    names = [r.module for r in routes.ROUTES]
    out = source.parent / f"{forced}.{ext}"
    with monkeypatch.context() as m:
        for module in names[: names.index(forced)]:
            m.setattr(
                importlib.import_module(f"convcli.routes.{module}"), "accepts", lambda plan: None
            )
        routes.convolve_file(str(source), str(out), settings)
    return out


@pytest.mark.parametrize(
    "streaming,kernel,options",
    [
        ("rows", "gaussian:sigma=2", {}),
        ("rows", "sharpen", {"pad_mode": "reflect"}),
        ("rows", "box:4", {"stride": (2, 3), "pad": (1,)}),
        ("rows", "random:9x7", {"dilation": (2, 1), "pad_mode": "symmetric", "offset": 0.2}),
        ("rows", "box:4", {"pad_mode": "circular"}),  # wrapped edges: the bottom rows first
        ("rows", "gaussian:sigma=2", {"normalize": True}),  # two passes
    ],
)
def test_strips_and_memory_and_a_pipe_give_the_same_image_bytes(
    tmp_path, monkeypatch, streaming, kernel, options
):
    rng = np.random.default_rng(0)
    pyvips.Image.new_from_array((rng.random((90, 70, 4)) * 255).astype(np.uint8)).copy(
        interpretation="srgb"
    ).write_to_file(str(tmp_path / "x.png"))
    if kernel.startswith("random"):
        np.save(tmp_path / "k.npy", rng.standard_normal((9, 7)) / 20)
        kernel = str(tmp_path / "k.npy")
    settings = ConvSettings(kernel, ndim=2, **options)
    outputs = [
        _by_route(monkeypatch, forced, tmp_path / "x.png", settings, "png").read_bytes()
        for forced in (streaming, "memory")
    ]
    with open(tmp_path / "x.png", "rb") as src:
        piped = subprocess.run(
            [
                sys.executable,
                "-m",
                "convcli",
                "conv2d",
                "-",
                "-k",
                kernel,
                "--to",
                "png",
                *_flags(options),
            ],
            stdin=src,
            capture_output=True,
        )
    assert piped.returncode == 0, piped.stderr
    outputs.append(piped.stdout)
    assert outputs[0] == outputs[1] == outputs[2], kernel


def _flags(options):
    flags = []
    for key, value in options.items():
        if value is True:
            flags.append(f"--{key}")
            continue
        value = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        flags += [f"--{key.replace('_', '-')}", value]
    return flags


def test_audio_blocks_and_memory_give_the_same_bytes(tmp_path, monkeypatch):
    noise = np.random.default_rng(1).standard_normal((30000, 2)) * 0.2
    sf.write(tmp_path / "x.wav", noise, 8000, subtype="PCM_16")
    monkeypatch.setattr(blocks, "STREAM_MIN_FRAMES", 1000)
    monkeypatch.setattr(blocks, "BLOCK_FRAMES", 4096)
    for kernel, options in [
        ("echo:delay=0.1,decay=0.5", {}),
        ("hann:31", {"mode": "same"}),
        ("1,-1,2", {"pad_mode": "symmetric", "mode": "same"}),
    ]:
        settings = ConvSettings(kernel, ndim=1, **options)
        outputs = [
            _by_route(monkeypatch, forced, tmp_path / "x.wav", settings, "wav").read_bytes()
            for forced in ("blocks", "memory")
        ]
        assert outputs[0] == outputs[1], kernel


def test_chunks_and_memory_give_the_same_array(tmp_path, monkeypatch):
    x = np.random.default_rng(2).standard_normal((300, 200))
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(chunks, "memory_budget", lambda: 1000)  # the file counts as big
    settings = ConvSettings("gaussian:sigma=2", ndim=2)
    results = [
        np.load(_by_route(monkeypatch, forced, tmp_path / "x.npy", settings, "npy"))
        for forced in ("chunks", "memory")
    ]
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)


def test_verbose_names_the_route_and_why(cli, samples, tmp_path):
    result = cli("conv2d", samples / "chelsea.png", "-k", "box:5", "-o", tmp_path / "y.png", "-v")
    assert "route: image strips, compiled (" in result.output
    result = cli("conv2d", samples / "chelsea.png", "-k", "box:5", "-o", tmp_path / "y.npy", "-v")
    assert "route: image strips, compiled (" in result.output
    result = cli(
        "conv2d", samples / "chelsea.png", "-k", "box:5", "--gray", "-o", tmp_path / "y.tif", "-v"
    )
    assert "route: image strips (" in result.output  # one band to TIFF: float samples, libvips
    result = cli("conv2d", samples / "chelsea.png", "-k", "box:5", "--to", "json", "-v")
    assert "route: memory (" in result.output
    assert strips.accepts  # the strip route's own test of the whole-image result lives in
    # tests/test_io_imagestream.py


def test_an_image_to_npy_in_compiled_strips_is_the_memory_route_s_array(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    pyvips.Image.new_from_array((rng.random((70, 90, 3)) * 255).astype(np.uint8)).copy(
        interpretation="srgb"
    ).write_to_file(str(tmp_path / "x.png"))
    settings = ConvSettings("gaussian:sigma=3", ndim=2, offset=0.5, pad_mode="symmetric")
    arrays = [
        np.load(_by_route(monkeypatch, forced, tmp_path / "x.png", settings, "npy"))
        for forced in ("rows", "memory")
    ]
    assert arrays[0].dtype == np.float64 and arrays[0].shape == (70, 90, 3)
    np.testing.assert_array_equal(arrays[0], arrays[1])
