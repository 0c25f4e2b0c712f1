"""Start-up: whole-process times of small convcli commands against bare Python imports."""

from __future__ import annotations

import subprocess
import sys
import time


def _seconds(cmd, stdin=None):
    start = time.perf_counter()
    subprocess.run(cmd, input=stdin, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _pair(ours_cmd, theirs_cmd, rounds, stdin=None):
    _seconds(ours_cmd, stdin), _seconds(theirs_cmd)
    a, b = [], []
    for _ in range(rounds):
        a.append(_seconds(ours_cmd, stdin))
        b.append(_seconds(theirs_cmd))
    return a, b


def _compile_bytecode():
    """Write convcli's .pyc files, as ``pip install`` does.

    The peers' modules come compiled from their wheels; without this, a shell with
    PYTHONDONTWRITEBYTECODE=1 (as the agents' machines have) would charge convcli
    for compiling all of its modules again on every run (about 10-25 ms).
    """
    import compileall
    from pathlib import Path

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "convcli", quiet=1)


def bench(quick, row):
    _compile_bytecode()
    rounds = 7 if quick else 21
    convcli = [sys.executable, "-m", "convcli"]
    a, b = _pair(
        convcli + ["outsize", "--input", "28x28x1", "--kernel", "5", "--pad", "2"],
        [sys.executable, "-c", "import click"],
        rounds,
    )
    row("start-up: convcli outsize", 'python -c "import click"', a, b)
    a, b = _pair(
        convcli + ["conv1d", "-", "-k", "1,-1,2"],
        [sys.executable, "-c", "import numpy"],
        rounds,
        stdin=b"0 1 2 3 4\n",
    )
    row("start-up: convcli conv1d on 5 numbers", 'python -c "import numpy"', a, b)
    a, b = _pair(
        convcli + ["conv1d", "-", "-k", "1,-1,2"],
        [sys.executable, "-c", "import scipy.signal"],
        rounds,
        stdin=b"0 1 2 3 4\n",
    )
    row("start-up: convcli conv1d on 5 numbers", 'python -c "import scipy.signal"', a, b)
