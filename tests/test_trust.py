"""The trust families, each tested as a family: photos, signals, pipes, clusters, chunked
stores, numbers, files and scripts. Real processes, real signals, a real Dask scheduler and
worker started in another folder."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import pyvips
from conftest import ROOT

CONVCLI = [sys.executable, "-m", "convcli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run([*CONVCLI, *map(str, args)], env=ENV, timeout=120, **kw)


def photo(path, rows=60, cols=80, bands=3, seed=0, smooth=False, **tags):
    rng = np.random.default_rng(seed)
    a = (rng.random((rows, cols, bands)) * 255).astype(np.uint8)
    if smooth:  # a gradient that tells every corner apart, and survives JPEG
        r, c = np.mgrid[:rows, :cols]
        a = np.dstack([r * 200 // rows + c * 50 // cols] * bands).astype(np.uint8)
    im = pyvips.Image.new_from_array(a).copy(interpretation="srgb" if bands >= 3 else "b-w")
    for key, value in tags.items():
        im.set_type(pyvips.GValue.gint_type, key, value)
    im.write_to_file(str(path))
    return a


# --- 1. photos


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_once_and_the_output_says_1(tmp_path, orientation):
    photo(tmp_path / "phone.jpg", smooth=True, orientation=orientation)
    assert (
        run(
            "conv2d", tmp_path / "phone.jpg", "-k", "identity", "-o", tmp_path / "out.jpg"
        ).returncode
        == 0
    )
    upright = pyvips.Image.new_from_file(str(tmp_path / "phone.jpg")).autorot()
    out = pyvips.Image.new_from_file(str(tmp_path / "out.jpg"))
    assert (out.width, out.height) == (upright.width, upright.height)
    assert out.get("orientation") == 1
    from PIL import Image

    assert Image.open(tmp_path / "out.jpg").getexif().get(0x0112) in (None, 1)
    assert np.abs(out.numpy().astype(int) - upright.numpy().astype(int)).mean() < 3


@pytest.mark.parametrize("kernel", ["gaussian:sigma=3", "sharpen", "box:9", "sobel-x"])
def test_image_files_extend_their_edges_by_default_and_numbers_pad_zeros(tmp_path, kernel):
    grey = np.full((40, 50, 3), 200, np.uint8)
    pyvips.Image.new_from_array(grey).copy(interpretation="srgb").write_to_file(
        str(tmp_path / "flat.png")
    )
    assert (
        run(
            "conv2d", tmp_path / "flat.png", "-k", kernel, "-o", tmp_path / "y.png", "--offset", "0"
        ).returncode
        == 0
    )
    y = pyvips.Image.new_from_file(str(tmp_path / "y.png")).numpy()
    expected = 0 if kernel == "sobel-x" else 200  # a flat photo stays flat to its edges
    assert np.all(y == expected), kernel
    zeros = run(
        "conv2d",
        tmp_path / "flat.png",
        "-k",
        kernel,
        "-o",
        tmp_path / "z.png",
        "--pad-mode",
        "zeros",
    )
    assert zeros.returncode == 0 and not np.all(
        pyvips.Image.new_from_file(str(tmp_path / "z.png")).numpy() == expected
    )
    text = run("conv2d", "-", "-k", "box:3", input=b"9 9 9\n9 9 9\n9 9 9\n")
    assert text.stdout.split()[0] == b"4"  # 36/9: zeros around numbers, as SciPy pads


def test_depth_and_alpha_are_never_reduced_silently(tmp_path):
    deep = (np.random.default_rng(0).random((30, 40, 3)) * 65535).astype(np.uint16)
    pyvips.Image.new_from_array(deep).copy(interpretation="rgb16").write_to_file(
        str(tmp_path / "deep.tif")
    )
    photo(tmp_path / "rgba.png", bands=4)
    for src, out, option in [
        ("deep.tif", "o.webp", "--depth 8"),
        ("deep.tif", "o.jpg", "--depth 8"),
        ("deep.tif", "o.gif", "--depth 8"),
        ("rgba.png", "f.jpg", "--flatten"),
    ]:
        p = run("conv2d", tmp_path / src, "-k", "box:3", "-o", tmp_path / out)
        assert p.returncode == 1 and option.encode() in p.stderr, (src, out, p.stderr)
        assert not (tmp_path / out).exists()
        assert (
            run(
                "conv2d", tmp_path / src, "-k", "box:3", "-o", tmp_path / out, *option.split()
            ).returncode
            == 0
        )
        assert pyvips.Image.new_from_file(str(tmp_path / out)).format == "uchar"
    assert (
        run(
            "conv2d",
            tmp_path / "rgba.png",
            "-k",
            "identity",
            "-o",
            tmp_path / "d.png",
            "--depth",
            "16",
        ).returncode
        == 0
    )
    d = pyvips.Image.new_from_file(str(tmp_path / "d.png"))
    assert d.format == "ushort" and d.bands == 4


def test_damaged_and_lying_inputs_are_named_as_inputs(tmp_path):
    photo(tmp_path / "a.jpg", rows=400, cols=600)
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    nan = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    nan[3, 4] = np.nan
    pyvips.Image.new_from_array(nan).write_to_file(str(tmp_path / "nan.tif"))
    claim = pyvips.Image.black(9000, 9000).cast("uchar")
    claim.write_to_file(str(tmp_path / "claim.png"), compression=9)
    for name in ("cut.jpg", "nan.tif"):
        p = run("conv2d", tmp_path / name, "-k", "box:3", "-o", tmp_path / "out.png")
        assert p.returncode == 1 and p.stderr.startswith(f"Error: {tmp_path / name}".encode())
        assert b"Traceback" not in p.stderr and not (tmp_path / "out.png").exists()
    from convcli.io import image

    header = pyvips.Image.new_from_file(str(tmp_path / "claim.png"))
    with pytest.raises(Exception, match="claims"):
        image.MAX_RATIO = 1  # the 81 MP black PNG compresses 1000:1; held to a tight bound
        try:
            image._check_claim(header, str(tmp_path / "claim.png"), "claim.png")
        finally:
            image.MAX_RATIO = 4096


def test_a_tiff_of_many_pages_is_filtered_page_by_page(tmp_path):
    page = pyvips.Image.black(16, 12).cast("uchar").copy(interpretation="b-w")
    pages = pyvips.Image.arrayjoin([page + (i % 200) for i in range(400)], across=1)
    pages = pages.cast("uchar").copy()
    pages.set_type(pyvips.GValue.gint_type, "page-height", 12)
    pages.write_to_file(str(tmp_path / "many.tif"))
    assert (
        run("conv2d", tmp_path / "many.tif", "-k", "box:3", "-o", tmp_path / "out.tif").returncode
        == 0
    )
    out = pyvips.Image.new_from_file(str(tmp_path / "out.tif"), n=-1)
    assert out.get("n-pages") == 400 and out.numpy()[12 * 300 + 5, 8] == 300 % 200


def test_pages_of_different_sizes_are_each_filtered_at_their_own_size(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(3)
    pages = [
        (rng.random((30, 40, 3)) * 255).astype(np.uint8),
        (rng.random((50, 20, 3)) * 255).astype(np.uint8),
    ]
    first, *rest = [Image.fromarray(p) for p in pages]
    first.save(tmp_path / "mixed.tif", save_all=True, append_images=rest)
    assert (
        run("conv2d", tmp_path / "mixed.tif", "-k", "box:3", "-o", tmp_path / "out.tif").returncode
        == 0
    )
    from convcli import convolve

    out = Image.open(tmp_path / "out.tif")
    for i, page in enumerate(pages):
        out.seek(i)
        expected = np.clip(
            np.rint(
                convolve(
                    page.astype(float), np.ones((3, 3)) / 9, "same", ndim=2, pad_mode="replicate"
                )
            ),
            0,
            255,
        )
        np.testing.assert_array_equal(np.asarray(out), expected)
    p = run("conv2d", tmp_path / "mixed.tif", "-k", "box:3", "-o", tmp_path / "out.png")
    assert p.returncode == 1 and b"OUT.tiff" in p.stderr


# --- 2. signals at any moment


def _big_image(tmp_path):
    a = (np.random.default_rng(0).random((3000, 4000, 3)) * 255).astype(np.uint8)
    pyvips.Image.new_from_array(a).copy(interpretation="srgb").write_to_file(
        str(tmp_path / "big.png"), compression=1
    )
    return tmp_path / "big.png"


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("out", ["o.png", "o.tif", "o.jpg"])
def test_a_signal_inside_libvips_acts_within_a_second_and_keeps_the_old_output(
    tmp_path, sig, status, out
):
    big = _big_image(tmp_path)
    (tmp_path / out).write_bytes(b"the old output")
    for delay in (0.6, 1.5):
        proc = subprocess.Popen(
            [
                *CONVCLI,
                "conv2d",
                str(big),
                "-k",
                "gaussian:sigma=12",
                "--pad-mode",
                "symmetric",
                "-o",
                str(tmp_path / out),
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(sig)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - sent < 1.0, delay
        assert proc.returncode == status, err
        assert b"Traceback" not in err and b"Exception ignored" not in err
        assert (tmp_path / out).read_bytes() == b"the old output"
        assert sorted(os.listdir(tmp_path)) == ["big.png", out]


def test_ctrl_c_inside_a_long_numpy_call_acts_within_a_second(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal(1_000_000))
    np.save(tmp_path / "k.npy", np.random.default_rng(1).standard_normal(50_000))
    proc = subprocess.Popen(
        [
            *CONVCLI,
            "conv1d",
            str(tmp_path / "x.npy"),
            "-k",
            str(tmp_path / "k.npy"),
            "--method",
            "direct",
            "-o",
            str(tmp_path / "y.npy"),
        ],
        env=ENV,
        stderr=subprocess.PIPE,
    )
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert took < 1.0 and proc.returncode == 130, (took, proc.returncode, err)
    assert sorted(os.listdir(tmp_path)) == ["k.npy", "x.npy"]


# --- 3. pipes are streams


def test_a_piped_wav_streams_in_flat_memory_and_gives_the_files_bytes(tmp_path):
    import soundfile as sf

    noise = np.random.default_rng(0).standard_normal((44100 * 60, 2)) * 0.1
    sf.write(tmp_path / "long.wav", noise, 44100, subtype="PCM_16")
    ir = ROOT / "samples" / "room-ir.wav"
    by_file = run("conv1d", tmp_path / "long.wav", "-k", ir, "-o", tmp_path / "a.wav")
    assert by_file.returncode == 0
    spool = tmp_path / "spool"
    spool.mkdir()
    piped = subprocess.run(
        f"cat {tmp_path / 'long.wav'} | /usr/bin/time -f %M {sys.executable}"
        f" -m convcli conv1d - -k {ir} -o {tmp_path / 'b.wav'}",
        shell=True,
        env={**ENV, "TMPDIR": str(spool)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    peak_kb = int(piped.stderr.strip().splitlines()[-1])
    assert peak_kb < 250_000  # the whole input alone is 10.6 MB of samples as float64 x 2
    assert os.listdir(spool) == []  # the spool of standard input is gone


def test_images_through_pipes_both_ways(tmp_path):
    photo(tmp_path / "a.jpg")
    with open(tmp_path / "a.jpg", "rb") as src, open(tmp_path / "b.jpg", "wb") as dst:
        p = subprocess.run(
            [*CONVCLI, "conv2d", "-", "-k", "box:3"],
            stdin=src,
            stdout=dst,
            stderr=subprocess.PIPE,
            env=ENV,
        )
    assert p.returncode == 0, p.stderr
    made = run("conv2d", tmp_path / "a.jpg", "-k", "box:3", "-o", tmp_path / "c.jpg")
    assert made.returncode == 0
    assert (tmp_path / "b.jpg").read_bytes() == (tmp_path / "c.jpg").read_bytes()
    for command in (
        "kernels",
        f"conv2d {tmp_path / 'a.jpg'} -k box:3 --to png",
        "conv1d - -k 1 <<< '1 2'",
    ):
        for where in (">&-", "> /dev/full"):
            p = subprocess.run(
                f"{sys.executable} -m convcli {command} {where}",
                shell=True,
                env=ENV,
                capture_output=True,
                text=True,
                executable="/bin/bash",
            )
            assert p.returncode == 1 and p.stderr.startswith("Error: standard output"), (
                command,
                where,
                p.stderr,
            )


# --- 4. clusters, 5. chunked stores


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real ``dask scheduler`` and ``dask worker``, both started in another folder."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
        ],
        cwd=elsewhere,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nthreads",
            "2",
            "--dashboard-address",
            ":0",
        ],
        cwd=elsewhere,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(1, timeout=30)
    yield address
    for proc in (worker, sched):
        proc.terminate()
        proc.wait(timeout=30)


def test_relative_paths_on_a_cluster_started_elsewhere_write_every_value(tmp_path, cluster):
    import zarr

    a = np.random.default_rng(0).random((300, 400)).astype(np.float32) + 1
    zarr.create_array(str(tmp_path / "a.zarr"), shape=a.shape, chunks=(64, 100), dtype="float32")[
        ...
    ] = a
    photo(tmp_path / "p.png")
    photo(tmp_path / "q.png", seed=1)
    for args in (
        ["a.zarr", "-k", "box:3", "-o", "b.zarr"],
        ["p.png", "-k", "box:3", "-o", "one.png"],
        ["p.png", "q.png", "-k", "box:3", "-o", "out/"],
    ):
        p = run("conv2d", *args, "--scheduler", cluster, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
    from convcli import convolve

    b = zarr.open_array(str(tmp_path / "b.zarr"))[...]
    np.testing.assert_allclose(
        b, convolve(a.astype(float), np.ones((3, 3)) / 9, mode="same"), rtol=1e-6
    )
    assert run("conv2d", "p.png", "-k", "box:3", "-o", "local.png", cwd=tmp_path).returncode == 0
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "local.png").read_bytes()
    assert sorted(os.listdir(tmp_path / "out")) == ["p.png", "q.png"]


def test_more_stores_than_worker_threads_finish_as_they_do_locally(tmp_path, cluster):
    import zarr

    names = [f"s{i}.zarr" for i in range(3)]  # the worker has 2 threads
    for i, name in enumerate(names):
        a = np.random.default_rng(i).random((90, 70)).astype(np.float32)
        z = zarr.create_array(str(tmp_path / name), shape=a.shape, chunks=(40, 30), dtype="float32")
        z[...] = a
    args = ["conv2d", *names, "-k", "gaussian:sigma=2", "--mode", "same"]
    far = run(*args, "-o", "far/", "--scheduler", cluster, cwd=tmp_path)
    assert far.returncode == 0, far.stderr
    assert run(*args, "-o", "near/", cwd=tmp_path).returncode == 0
    for name in names:
        a, b = (zarr.open_array(str(tmp_path / d / name))[...] for d in ("far", "near"))
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("address", ["bogus", "tcp://127.0.0.1:1", "silent"])
def test_a_scheduler_that_cannot_serve_is_one_line_within_ten_seconds(tmp_path, address):
    photo(tmp_path / "p.png")
    with socket.socket() as quiet:  # accepts, never speaks
        quiet.bind(("127.0.0.1", 0))
        quiet.listen(8)
        if address == "silent":
            address = f"tcp://127.0.0.1:{quiet.getsockname()[1]}"
        start = time.monotonic()
        p = run(
            "conv2d",
            tmp_path / "p.png",
            "-k",
            "box:3",
            "-o",
            tmp_path / "o.png",
            "--scheduler",
            address,
        )
    assert time.monotonic() - start < 10
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1 and p.stderr.startswith(b"Error:")
    assert not (tmp_path / "o.png").exists()


def test_chunked_stores_are_checked_before_any_work(tmp_path):
    import zarr

    fine = zarr.create_array(
        str(tmp_path / "fine.zarr"), shape=(4000, 4000), chunks=(2, 2), dtype="float32"
    )
    nan_fill = zarr.create_array(
        str(tmp_path / "nanfill.zarr"),
        shape=(50, 50),
        chunks=(10, 10),
        dtype="float64",
        fill_value=np.nan,
    )
    nan_fill[:10, :10] = 1.0
    holed = zarr.create_array(
        str(tmp_path / "holed.zarr"), shape=(50, 50), chunks=(10, 10), dtype="float64"
    )
    holed[...] = 1.0
    holed[20, 30] = np.inf
    del fine
    for name, words in [
        ("fine.zarr", b"chunks"),
        ("nanfill.zarr", b"fill value"),
        ("holed.zarr", b"NaN or infinite"),
    ]:
        start = time.monotonic()
        p = run("conv2d", tmp_path / name, "-k", "box:3", "-o", tmp_path / "out.zarr")
        assert p.returncode == 1 and words in p.stderr, (name, p.stderr)
        assert time.monotonic() - start < 20
        assert not [n for n in os.listdir(tmp_path) if n.startswith(".") or n == "out.zarr"]


def test_a_replaced_store_killed_mid_swap_is_recovered_by_the_next_run(tmp_path):
    import zarr

    from convcli.io import atomic

    zarr.create_array(str(tmp_path / "a.zarr"), shape=(20, 20), dtype="float64")[...] = 1.0
    old = atomic._old_of(str(tmp_path / "out.zarr"))
    zarr.create_array(old, shape=(5,), dtype="float64")[...] = 7.0  # what a SIGKILL leaves
    assert (
        run(
            "conv2d", tmp_path / "a.zarr", "-k", "1", "-o", tmp_path / "out.zarr", "--mode", "valid"
        ).returncode
        == 0
    )
    assert zarr.open_array(str(tmp_path / "out.zarr")).shape == (20, 20)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


# --- 6. numbers


def test_kernels_of_the_wrong_kind_or_channel_count_are_refused(tmp_path):
    import soundfile as sf

    photo(tmp_path / "p.png")
    sf.write(tmp_path / "mono.wav", np.zeros(1000), 8000)
    sf.write(tmp_path / "stereo.wav", np.zeros((10, 2)), 8000)
    cases = [
        ("conv1d", "mono.wav", "p.png", b"is an image"),
        ("conv2d", "p.png", "mono.wav", b"is audio"),
        ("conv1d", "mono.wav", "stereo.wav", b"2 channels but the input has 1"),
        ("conv1d", "mono.wav", "sobel-x", b"2-D"),
    ]
    for command, src, kernel, words in cases:
        k = tmp_path / kernel if (tmp_path / kernel).exists() else kernel
        out = tmp_path / ("out.wav" if command == "conv1d" else "out.png")
        p = run(command, tmp_path / src, "-k", k, "-o", out)
        assert p.returncode == 1 and words in p.stderr, (command, kernel, p.stderr)
        assert not out.exists()


def test_integers_never_wrap_in_memory_nor_in_a_store(tmp_path):
    import zarr

    p = run("conv1d", "-", "-k", "1,1", input=b"9223372036854775807 1\n")
    assert p.returncode == 0 and b"-" not in p.stdout and b"Warning" in p.stderr
    store = zarr.create_array(str(tmp_path / "i.zarr"), shape=(10,), dtype="int64")
    store[...] = 2**62
    p = run("conv1d", tmp_path / "i.zarr", "-k", "1,1", "-o", tmp_path / "o.zarr")
    assert p.returncode == 1 and b"never wrapped" in p.stderr
    assert not (tmp_path / "o.zarr").exists()


def test_opus_is_opus_or_refused(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.sin(np.arange(48000) / 9) * 0.3, 48000)
    sf.write(tmp_path / "b.wav", np.sin(np.arange(44100) / 9) * 0.3, 44100)
    assert run("conv1d", tmp_path / "a.wav", "-k", "1", "-o", tmp_path / "a.opus").returncode == 0
    assert sf.info(tmp_path / "a.opus").subtype == "OPUS"
    p = run("conv1d", tmp_path / "b.wav", "-k", "1", "-o", tmp_path / "b.opus")
    assert p.returncode == 1 and b"Opus holds" in p.stderr and not (tmp_path / "b.opus").exists()


@pytest.mark.parametrize("lr", ["nan", "inf", "-inf", "1e308", "0", "-1"])
def test_absurd_learning_rates_are_usage_errors(lr):
    p = run("train-mnist", "--lr", lr, "--limit", "10", "--epochs", "1")
    assert p.returncode == 2 and b"--lr" in p.stderr


def test_csv_typos_are_errors_with_their_line_and_column(tmp_path):
    for text, where in [
        ("a,b\n1,2\n3,x4\n", ":3:3:"),
        ("1,2x\n3,4\n", ":1:3:"),
        ("t,v\n1,2\n,,\n3;4\n", None),
    ]:
        (tmp_path / "d.csv").write_text(text)
        p = run("conv1d", tmp_path / "d.csv", "-k", "1")
        if where is None:
            continue
        assert p.returncode == 1 and where.encode() in p.stderr, (text, p.stderr)
    (tmp_path / "h.csv").write_text("time,volts\n1,2\n3,4\n")
    assert run("conv1d", tmp_path / "h.csv", "-k", "1,1").stdout == b"time,volts\n1,2\n4,6\n3,4\n"


def test_results_are_held_to_the_input_pixel_limit(tmp_path):
    photo(tmp_path / "p.png")
    start = time.monotonic()
    p = run(
        "conv2d", tmp_path / "p.png", "-k", "box:3", "--pad", "100000", "-o", tmp_path / "o.png"
    )
    assert p.returncode == 1 and b"limit" in p.stderr and time.monotonic() - start < 10
    assert os.listdir(tmp_path) == ["p.png"]


# --- 7. files as cp and shells treat them


def test_outputs_are_treated_as_cp_treats_them(tmp_path):
    (tmp_path / "x.txt").write_text("1 2 3\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "target.txt").write_text("old\n")
    os.symlink(elsewhere / "target.txt", tmp_path / "link.txt")
    os.symlink(elsewhere / "new.txt", tmp_path / "dangling.txt")
    for link, target in [("link.txt", "target.txt"), ("dangling.txt", "new.txt")]:
        assert run("conv1d", tmp_path / "x.txt", "-k", "1,1", "-o", tmp_path / link).returncode == 0
        assert os.path.islink(tmp_path / link)
        assert (elsewhere / target).read_text() == "1 3 5 3\n"
    (tmp_path / "ro.txt").write_text("keep\n")
    os.chmod(tmp_path / "ro.txt", 0o444)
    p = run("conv1d", tmp_path / "x.txt", "-k", "1", "-o", tmp_path / "ro.txt")
    assert p.returncode == 1 and b"read-only" in p.stderr
    assert (tmp_path / "ro.txt").read_text() == "keep\n"
    long_name = "n" * 230 + ".txt"
    assert run("conv1d", tmp_path / "x.txt", "-k", "1", "-o", tmp_path / long_name).returncode == 0
    assert (tmp_path / "x.txt").read_text() == "1 2 3\n"
    p = run("conv1d", tmp_path / "x.txt", "-k", "1", "-o", tmp_path / "x.txt")
    assert p.returncode == 1 and b"--in-place" in p.stderr
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_no_clobber_lets_exactly_one_of_ten_racing_runs_write(tmp_path):
    for i in range(10):
        (tmp_path / f"in{i}.txt").write_text(" ".join([str(i)] * 20000))
    procs = [
        subprocess.Popen(
            [
                *CONVCLI,
                "conv1d",
                str(tmp_path / f"in{i}.txt"),
                "-k",
                "1",
                "-o",
                str(tmp_path / "out.txt"),
                "--no-clobber",
            ],
            env=ENV,
            stderr=subprocess.PIPE,
        )
        for i in range(10)
    ]
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    values = set((tmp_path / "out.txt").read_text().split())
    assert len(values) == 1  # one whole result, never a mix
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_recursive_takes_the_commands_kind_and_counts_the_rest(tmp_path):
    import soundfile as sf

    folder = tmp_path / "mixed"
    folder.mkdir()
    photo(folder / "a.png")
    photo(folder / "b.jpg")
    sf.write(folder / "c.wav", np.zeros(100), 8000)
    (folder / "note.txt").write_text("1 2 3\n")
    p = run("conv2d", "-r", folder, "-k", "box:3", "-o", f"{tmp_path / 'out'}/")
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.jpg"]
    assert b"skipped 2 file(s)" in p.stderr
    p = run("conv1d", "-r", folder, "-k", "1", "-o", f"{tmp_path / 'sig'}/")
    assert p.returncode == 0 and sorted(os.listdir(tmp_path / "sig")) == ["c.wav", "note.txt"]


# --- 8. scripts


def test_scripts_get_one_line_and_options_anywhere():
    p = run("outsize", "--input", "28x28x1", "--kernel", "5", "--filters", "2")
    assert p.stdout == b"24x24x2\n"
    for args in (
        ["-q", "conv1d", "-", "-k", "1,1"],
        ["conv1d", "-q", "-", "-k", "1,1"],
        ["-v", "conv1d", "-", "-k", "1,1"],
    ):
        p = run(*args, input=b"1 2\n")
        assert p.returncode == 0 and p.stdout == b"1 3 2\n", args


def test_a_temporary_a_library_creates_again_just_after_ctrl_c_is_removed_too(tmp_path):
    """libvips opens the output it was handed as its save starts: a Ctrl-C a moment
    after the temporary was made may remove it before libvips creates it again."""
    import threading

    from convcli.io import atomic

    try:
        with pytest.raises(OSError), atomic.atomic_path(str(tmp_path / "o.png")) as tmp:

            def library():
                time.sleep(atomic.AFTERMATH / 3)
                open(tmp, "wb").close()

            late = threading.Thread(target=library)
            late.start()
            atomic.cancel()
            late.join()
            assert not os.path.exists(tmp)
    finally:
        atomic.resume()
    assert os.listdir(tmp_path) == []
