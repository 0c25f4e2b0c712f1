"""The README's console sessions, run as written: every command works, and what it prints
matches the README wherever the README shows it (a line of ``...`` elides the rest)."""

import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

SLOW = ("train-mnist", "evaluate", "predict")  # need a trained model: checked by their own tests
VARIES = re.compile(r"\d+\.\d s$|\(\d+(\.\d+)? s\)|version")


def _sessions():
    """(command, expected output lines) for each ``$`` line of the README's console blocks."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    yield command, expected
                command, expected = line[2:], []
            elif command is not None:
                expected.append(line)
        if command:
            yield command, expected


SESSIONS = [s for s in _sessions() if not any(word in s[0] for word in SLOW)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "samples", tmp / "samples", symlinks=False)
    (tmp / "docs").mkdir()
    (tmp / "photos").mkdir()
    for i in range(3):  # the README's folder of photos and its big arrays, in small
        shutil.copy(ROOT / "samples" / "seven.jpg", tmp / "photos" / f"p{i}.jpg")
    import numpy as np
    import zarr

    x = np.random.default_rng(0).random((300, 200)).astype(np.float32)
    zarr.create_array(str(tmp / "scan.zarr"), shape=x.shape, chunks=(100, 100), dtype="float32")[
        ...
    ] = x
    np.save(tmp / "huge.npy", x)
    return tmp


def _comparable(lines):
    kept = []
    for line in lines:
        if line.startswith("...") or "..." in line.split("#")[0][-40:] and line.endswith(")"):
            break
        kept.append(re.sub(r"\s+#.*$", "", line).rstrip())
    return kept


@pytest.mark.parametrize("command,expected", SESSIONS, ids=[c for c, _ in SESSIONS])
def test_the_readme_session_prints_what_it_shows(folder, command, expected):
    if shutil.which(command.split()[0]) is None and not command.startswith(
        ("convcli", "echo", "printf", "cat")
    ):
        pytest.skip(f"{command.split()[0]} is not installed")
    shell = re.sub(r"(^|\| )convcli ", rf"\1{sys.executable} -m convcli ", command)
    p = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{{ {shell}\n}} 2>&1"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout
    got = p.stdout.splitlines()
    want = _comparable(expected)
    got = [line.rstrip() for line in got[: len(want)]]
    for g, w in zip(got, want):
        if VARIES.search(w):
            continue
        assert g == w, "\n".join(got)
    assert len(got) == len(want), "\n".join(got)


def test_the_readme_python_session_runs(monkeypatch):
    import doctest

    text = (ROOT / "README.md").read_text()
    session = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(ROOT)
    test = doctest.DocTestParser().get_doctest(session, {}, "README", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
