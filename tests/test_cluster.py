"""Batches and chunked arrays on a real two-process Dask cluster, listening on 127.0.0.1 only."""

import functools
import os
import time
from pathlib import Path

import numpy as np
import pytest

from convcli import cluster
from convcli.engine import convolve
from convcli.errors import DataError, SchedulerError
from convcli.io.atomic import atomic_path
from convcli.io.zarrfile import read_chunked
from convcli.routes.chunks import convolve_chunked


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as local:
        yield local.scheduler_address


def smooth_npy(source, target, *, kernel):
    """A batch job as the CLI writes one: read, one engine call, an atomic write."""
    x = np.load(source, allow_pickle=False)
    if not np.isfinite(x).all():
        raise DataError(f"{source}: NaN or infinity in the data")
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        np.save(f, convolve(x, kernel, "same"))


def _write_inputs(folder, count):
    rng = np.random.default_rng(5)
    inputs = []
    for i in range(count):
        inputs.append(str(folder / f"in{i}.npy"))
        np.save(inputs[-1], rng.standard_normal((30, 20)))
    return inputs


def test_a_batch_on_the_cluster_equals_a_local_run(tmp_path, address):
    inputs = _write_inputs(tmp_path, 6)
    outputs = [p.replace("in", "out") for p in inputs]
    job = functools.partial(smooth_npy, kernel=np.ones((3, 3)) / 9)
    seen = []
    failures = cluster.run_batch(
        job, inputs, outputs, address, progress=lambda path, error: seen.append((path, error))
    )
    assert failures == []
    assert sorted(seen) == [(p, None) for p in inputs]
    for source, target in zip(inputs, outputs):
        local = convolve(np.load(source), np.ones((3, 3)) / 9, "same")
        np.testing.assert_array_equal(np.load(target), local)


def test_one_failing_file_is_reported_once_and_the_rest_are_done(tmp_path, address):
    inputs = _write_inputs(tmp_path, 4)
    bad = np.ones((30, 20))
    bad[3, 4] = np.nan
    np.save(inputs[1], bad)
    inputs.append(str(tmp_path / "missing.npy"))
    outputs = [str(tmp_path / f"out{i}.npy") for i in range(len(inputs))]
    job = functools.partial(smooth_npy, kernel=np.ones((3, 3)))
    failures = cluster.run_batch(job, inputs, outputs, address)
    assert failures[0] == (inputs[1], "NaN or infinity in the data")
    assert failures[1][0] == inputs[-1] and "No such file" in failures[1][1]
    assert len(failures) == 2
    for i in (0, 2, 3):
        assert os.path.exists(outputs[i])
    assert sorted(os.listdir(tmp_path)) == sorted(
        os.path.basename(p) for p in inputs[:-1] + [outputs[i] for i in (0, 2, 3)]
    )


def test_a_chunked_convolution_on_the_cluster_equals_a_local_one(tmp_path, address):
    x = np.random.default_rng(6).standard_normal((45, 31)).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    w = np.random.default_rng(7).standard_normal((4, 5)).astype(np.float32)
    settings = dict(mode="same", pad_mode="reflect", stride=(2, 1), chunks=(6, 9))
    seen = []
    convolve_chunked(
        tmp_path / "in.npy",
        tmp_path / "far.zarr",
        w,
        scheduler=address,
        progress=lambda done, total: seen.append(done),
        **settings,
    )
    convolve_chunked(tmp_path / "in.npy", tmp_path / "near.zarr", w, **settings)
    far, near = read_chunked(tmp_path / "far.zarr")[:], read_chunked(tmp_path / "near.zarr")[:]
    np.testing.assert_array_equal(far, near)
    np.testing.assert_allclose(
        far, convolve(x, w, "same", pad_mode="reflect", stride=(2, 1)), rtol=1e-5, atol=1e-5
    )
    assert seen == list(range(1, 4 * 4 + 1))
    assert sorted(os.listdir(tmp_path)) == ["far.zarr", "in.npy", "near.zarr"]


def test_an_unreachable_scheduler_is_one_clear_line_quickly():
    start = time.monotonic()
    line = r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9: no answer within 1 s$"
    with pytest.raises(SchedulerError, match=line) as info:
        cluster.run_batch(print, ["a"], ["b"], "tcp://127.0.0.1:9", timeout=1)
    assert time.monotonic() - start < 10
    assert "\n" not in str(info.value)


def test_the_address_comes_from_the_option_else_the_environment(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.1.2.3:8786")
    assert cluster.scheduler_address(None) == "tcp://10.1.2.3:8786"
    assert cluster.scheduler_address("tcp://h:1") == "tcp://h:1"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert cluster.scheduler_address(None) is None
    with pytest.raises(SchedulerError, match="no Dask scheduler given"):
        cluster.run_batch(print, ["a"], ["b"])


def test_error_text_names_the_path_once_and_bugs_by_type():
    assert cluster.error_text(DataError("a.npy: empty input"), "a.npy") == "empty input"
    assert cluster.error_text(KeyError("x"), "a.npy") == "KeyError: 'x'"


def test_the_cli_runs_a_batch_on_the_cluster_as_it_does_locally(cli, samples, tmp_path, address):
    from PIL import Image

    photos = []
    for i in range(4):
        photos.append(tmp_path / f"p{i}.png")
        Image.open(samples / "chelsea.png").rotate(90 * i, expand=True).save(photos[-1])
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    local = cli("conv2d", *photos, "-k", "box:3", "-o", f"{tmp_path}/local/")
    assert local.exit_code == 0, local.output
    remote = cli(
        "conv2d",
        *photos,
        tmp_path / "bad.png",
        "-k",
        "box:3",
        "-o",
        f"{tmp_path}/remote/",
        "--scheduler",
        address,
    )
    assert remote.exit_code == 1 and remote.output.count("bad.png") == 1
    for photo in photos:
        a = (tmp_path / "local" / photo.name).read_bytes()
        assert (tmp_path / "remote" / photo.name).read_bytes() == a
    assert not (tmp_path / "remote" / "bad.png").exists()


def test_the_cli_convolves_a_zarr_store_in_chunks(cli, tmp_path, address, monkeypatch):
    import zarr

    x = np.random.default_rng(8).standard_normal((120, 90))
    z = zarr.create_array(str(tmp_path / "x.zarr"), shape=x.shape, chunks=(50, 40), dtype="float64")
    z[...] = x
    w = np.outer([1, 2, 1], [1, 0, -1, 2])
    np.save(tmp_path / "w.npy", w)
    expected = convolve(x, w, "same")
    for extra in ([], ["--scheduler", address]):
        result = cli(
            "conv2d",
            tmp_path / "x.zarr",
            "-k",
            tmp_path / "w.npy",
            "-o",
            tmp_path / "y.zarr",
            *extra,
        )
        assert result.exit_code == 0, result.output
        np.testing.assert_allclose(read_chunked(tmp_path / "y.zarr")[...], expected, atol=1e-12)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    result = cli(
        "conv2d",
        tmp_path / "x.zarr",
        "-k",
        "1",
        "--pad",
        "2",
        "--stride",
        "3",
        "-o",
        tmp_path / "s.npy",
    )
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), convolve(x, [[1]], pad=2, stride=3))


# --- a real `dask scheduler` and `dask worker`s, started in another folder, to kill -------


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def processes(tmp_path_factory):
    """Start a scheduler and ``n`` one-thread workers (no nanny: a kill is a loss) elsewhere;
    yields ``start(n) -> (address, scheduler, workers)``; all are ended afterwards."""
    import subprocess
    import sys

    pytest.importorskip("distributed")
    started = []

    def start(n):
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        address = f"tcp://127.0.0.1:{_free_port()}"
        here = os.path.dirname(os.path.abspath(__file__))  # the jobs below unpickle by name
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
        common = dict(cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", address.rsplit(":", 1)[1], "--dashboard-address", ":0"],
            **common,
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny"]
                + ["--nthreads", "1", "--dashboard-address", ":0"],
                **common,
            )
            for _ in range(n)
        ]
        started.extend([scheduler, *workers])
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(n, timeout=30)
        return address, scheduler, workers

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=30)


def slow_copy(source, target, *, log, seconds=0.05):
    """A batch job that takes a while, writes atomically, then logs that it finished."""
    time.sleep(seconds)
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        f.write(Path(source).read_bytes())
    with open(log, "a") as f:
        f.write(f"{os.path.basename(source)}\n")


def test_a_killed_worker_redoes_no_finished_file(tmp_path, processes):
    import signal

    address, _, workers = processes(2)
    inputs = []
    for i in range(80):
        inputs.append(str(tmp_path / f"f{i:03d}.bin"))
        Path(inputs[-1]).write_bytes(bytes([i]))
    outputs = [p.replace(".bin", ".out") for p in inputs]
    job = functools.partial(slow_copy, log=str(tmp_path / "log"), seconds=0.03)
    done = []

    def progress(path, error):
        done.append(path)
        if len(done) == 20:  # mid-batch, groups of several files in flight
            os.kill(workers[0].pid, signal.SIGKILL)

    assert cluster.run_pairs(job, zip(inputs, outputs), address, progress=progress) == []
    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    ran = (tmp_path / "log").read_text().split()
    assert sorted(ran) == sorted(os.path.basename(p) for p in inputs)  # each finished once
    assert all(Path(o).read_bytes() == Path(i).read_bytes() for i, o in zip(inputs, outputs))


def test_a_killed_scheduler_is_one_line_with_the_files_done(tmp_path, processes):
    import re
    import signal
    import subprocess
    import sys

    address, scheduler, _ = processes(1)
    (tmp_path / "in").mkdir()
    for i in range(300):
        np.savetxt(tmp_path / "in" / f"s{i:03d}.txt", np.arange(50.0) * i)
    command = [sys.executable, "-m", "convcli", "conv1d", "-r", str(tmp_path / "in")]
    command += ["-k", "1,2,1", "-o", f"{tmp_path}/out/", "--scheduler", address]
    run = subprocess.Popen(command, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and len(os.listdir(tmp_path / "out") if (tmp_path / "out").exists() else []) < 5
    ):
        time.sleep(0.05)
    scheduler.send_signal(signal.SIGKILL)
    _, err = run.communicate(timeout=60)
    line = (
        rf"Error: lost the Dask scheduler at {re.escape(address)}; [\d,]+ of [\d,]+\+? files done\n"
    )
    assert run.returncode == 1 and re.fullmatch(line, err.decode()), err.decode()


def test_files_go_through_a_window_lazily_and_group_once_timed(tmp_path, address):
    inputs = _write_inputs(tmp_path, 150)
    listed, seen, ahead = [], [], []

    def pairs():
        for path in inputs:
            listed.append(path)
            ahead.append(len(listed) - len(seen))
            yield path, os.path.join(os.path.dirname(path), "out" + os.path.basename(path))

    job = functools.partial(smooth_npy, kernel=np.ones((3, 3)))
    progress = lambda path, error: seen.append(path)  # noqa: E731
    assert cluster.run_pairs(job, pairs(), address, progress=progress, group_seconds=0) == []
    assert sorted(seen) == sorted(inputs)
    assert max(ahead) <= 4 * 2 + 1  # four tasks per worker thread in flight, one file each
    sizer = cluster._Sizer(1.0)
    assert sizer.size() == 1  # untimed: one file per task, the first result at once
    for _ in range(8):
        sizer.add(0.01)
    assert sizer.size() == 100  # then about a second of work per task


def test_a_rerun_group_skips_the_outputs_it_already_renamed(tmp_path):
    pairs = [(str(tmp_path / f"{n}.in"), str(tmp_path / f"{n}.out")) for n in "ab"]
    for path, _ in pairs:
        Path(path).write_text(path)
    log = str(tmp_path / "log")
    since = time.time() - 1
    Path(pairs[0][1]).write_text("done before its worker was lost")
    results = cluster.run_group(functools.partial(slow_copy, log=log, seconds=0), pairs, since)
    assert [(p, e) for p, e, _ in results] == [(pairs[0][0], None), (pairs[1][0], None)]
    assert Path(log).read_text().split() == ["b.in"]
