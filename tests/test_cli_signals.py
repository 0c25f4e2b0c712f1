"""Real processes, real signals, real pipes and a real full disk: files stay whole."""

import os
import signal
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT

CONVCLI = [sys.executable, "-m", "convcli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def start(*args, **kw):
    return subprocess.Popen(
        [*CONVCLI, *map(str, args)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw
    )


def shell(command):
    return subprocess.run(
        command,
        shell=True,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        executable="/bin/bash",
    )


def wait_for_new_file(folder, known, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if set(os.listdir(folder)) - known:
            return
        time.sleep(0.01)
    raise AssertionError("no output started")


def test_a_signal_while_convcli_starts_never_shows_a_traceback_of_convcli():
    # Python's own start-up (site, .pth files) comes before any code of ours; from the
    # first line of convcli on, an early signal exits 130/143 quietly.
    for i, delay in enumerate(np.linspace(0.0, 0.15, 8)):
        sig = signal.SIGINT if i % 2 else signal.SIGTERM
        proc = start("conv1d", "-", "-k", "1,2", stdin=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(b"1 2 3", timeout=30)
        ours = f"convcli{os.sep}".encode() in err  # a frame in our package, not in site's
        if ours or b"Traceback" not in err:  # not in the interpreter's own start-up
            assert b"Traceback" not in err, err.decode()
            assert proc.returncode in (0, 130, 143, -sig), (delay, proc.returncode, err)


@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_write_leaves_no_temporary_nor_scratch_file(tmp_path, sig, status):
    import soundfile as sf

    noise = np.random.default_rng(0).standard_normal((44100 * 300, 1)) * 0.1
    sf.write(tmp_path / "in.wav", noise, 44100, subtype="PCM_16")
    proc = start(
        "conv1d",
        tmp_path / "in.wav",
        "-k",
        "echo:delay=0.3,decay=0.5",
        "--normalize",
        "-o",
        tmp_path / "out.wav",
    )
    wait_for_new_file(tmp_path, {"in.wav"})
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status, err
    assert b"Traceback" not in err
    assert os.listdir(tmp_path) == ["in.wav"]


def test_ctrl_c_cancels_a_parallel_batch_at_once(tmp_path):
    inputs = []
    for i in range(6):
        path = tmp_path / f"in{i}.txt"
        path.write_text("\n".join(str(j % 7) for j in range(1_500_000)))
        inputs.append(path)
    out = tmp_path / "out"
    proc = start("conv1d", *inputs, "-k", "1,2", "-o", f"{out}/", "-j", "2")
    wait_for_new_file(tmp_path, {p.name for p in inputs})
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 2.0
    assert b"Traceback" not in err
    left = os.listdir(out) if out.exists() else []
    assert not [n for n in left if n.startswith(".")]  # no temporaries
    assert len(left) <= 2  # only files finished before the signal, whole
    for name in left:
        assert (out / name).read_text().count("\n") == 1_500_001


@pytest.mark.parametrize(
    "command",
    [
        "kernels",
        "kernels show gaussian:sigma=20",
        "outsize --input 28x28x1 conv:k=5,n=6 relu fc:n=10",
        "--help",
        "conv1d --help",
        "conv1d samples/signal.txt -k 1,1",
        "train-mnist --limit 40 --epochs 2 --arch fc:n=10",
    ],
)
def test_every_command_ends_quietly_on_a_broken_stdout_and_says_so_on_a_closed_one(command):
    broken = shell(
        f"cd {ROOT} && {sys.executable} -m convcli {command} | head -c 1 >/dev/null;"
        " exit ${PIPESTATUS[0]}"
    )
    assert (broken.returncode, broken.stderr) == (0, "")
    closed = shell(f"cd {ROOT} && {sys.executable} -m convcli {command} >&-")
    assert closed.returncode == 1
    assert closed.stderr == "Error: standard output: closed (nothing could be written)\n"


def test_a_closed_stderr_never_tracebacks_and_keeps_the_status():
    p = shell(f"{sys.executable} -m convcli conv1d missing.txt -k 1 2>&-; echo $?")
    assert p.stdout == "1\n"
    p = shell(
        f"{sys.executable} -m convcli conv1d missing.txt -k 1 2>&1 >&- | head -c 0;"
        " echo ${PIPESTATUS[0]}"
    )
    assert p.stdout == "1\n"


def test_special_files_are_written_through_not_replaced(tmp_path):
    p = shell(f"echo 1 2 3 | {sys.executable} -m convcli conv1d - -k 1 -o /dev/null --to txt")
    assert p.returncode == 0, p.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    p = shell(f"echo 1 2 3 | {sys.executable} -m convcli conv1d - -k 1,1 -o {fifo} --to txt")
    reader.join(10)
    assert p.returncode == 0, p.stderr
    assert got == ["1 3 5 3\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (root only), unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_is_one_clear_line_and_damages_nothing(small_disk):
    old = small_disk / "out.txt"
    old.write_text("precious\n")
    p = shell(f"seq 1 100000 | {sys.executable} -m convcli conv1d - -k 1,1 -o {old}")
    assert p.returncode == 1
    assert p.stderr == f"Error: {old}: no space left on the device\n"
    assert old.read_text() == "precious\n" and os.listdir(small_disk) == ["out.txt"]


def test_a_read_only_disk_is_one_clear_line(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    p = shell(f"echo 1 | {sys.executable} -m convcli conv1d - -k 1 -o {small_disk}/o.txt")
    assert p.returncode == 1
    assert p.stderr.startswith("Error: ") and "internal error" not in p.stderr
    assert p.stderr.count("\n") == 1


def test_predict_ends_quietly_on_a_broken_stdout_and_says_so_on_a_closed_one(tmp_path):
    from convcli.layerspec import parse_network
    from convcli.nn import Network

    Network(parse_network(["fc:n=10"]), (28, 28, 1)).save(str(tmp_path / "m.npz"))
    digits = " ".join([str(ROOT / "samples" / "seven.jpg")] * 50)
    command = f"{sys.executable} -m convcli predict -m {tmp_path / 'm.npz'} {digits}"
    broken = shell(f"{command} | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}")
    assert (broken.returncode, broken.stderr) == (0, "")
    closed = shell(f"{command} >&-")
    assert (closed.returncode, closed.stderr.split(":")[0]) == (1, "Error")


def test_sigkill_leaves_at_most_one_hidden_temporary_that_says_it_is_convclis(tmp_path):
    import soundfile as sf

    noise = np.random.default_rng(0).standard_normal((44100 * 300, 1)) * 0.1
    sf.write(tmp_path / "in.wav", noise, 44100, subtype="PCM_16")
    proc = start("conv1d", tmp_path / "in.wav", "-k", "echo:delay=0.3", "-o", tmp_path / "o.wav")
    wait_for_new_file(tmp_path, {"in.wav"})
    proc.kill()
    proc.communicate(timeout=30)
    left = sorted(set(os.listdir(tmp_path)) - {"in.wav"})
    assert len(left) <= 1 and all(n.startswith(".o.wav.convcli-") for n in left), left


def test_a_full_disk_in_a_batch_names_each_file_once_and_leaves_no_temporary(small_disk, tmp_path):
    inputs = []
    for name in ("a.txt", "b.txt"):
        inputs.append(tmp_path / name)
        inputs[-1].write_text("\n".join(map(str, range(20000))))
    p = shell(
        f"{sys.executable} -m convcli conv1d {inputs[0]} {inputs[1]} -k 1,1 "
        f"-o {small_disk}/out/ -j 2"
    )
    assert p.returncode == 1
    for path in inputs:
        assert p.stderr.count(str(path)) == 1
    assert "no space left on the device" in p.stderr and "internal error" not in p.stderr
    assert not [n for n in os.listdir(small_disk / "out") if n.startswith(".")]
