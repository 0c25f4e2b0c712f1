"""Where MNIST comes from: the checked cache, a bounded download, the shipped package data."""

import configparser
import hashlib
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT

import convcli
from convcli.errors import FileError
from convcli.nn import data


def md5s(folder):
    return {n: hashlib.md5((folder / n).read_bytes()).hexdigest() for n in data.FILES}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache; the shipped subset's checksums stand in for MNIST's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "FILES", md5s(data.SHIPPED))
    monkeypatch.setattr(data, "MIRRORS", ())
    folder = data.cache_dir()
    folder.mkdir(parents=True)
    return folder


def serve(handler_class, seconds=10):
    """A loopback HTTP server in a daemon thread, shut down after ``seconds`` at most."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Timer(seconds, server.shutdown).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


class Trickle(http.server.BaseHTTPRequestHandler):
    """Promises 10 kB, then sends one byte every 0.2 s."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "10000")
        self.end_headers()
        for _ in range(50):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    def log_message(self, *args):
        pass


class Missing(Trickle):
    def do_GET(self):
        self.send_error(404)


def test_a_trickling_mirror_is_given_up_at_the_deadline(cache):
    server, url = serve(Trickle)
    start = time.monotonic()
    with pytest.raises(FileError, match="too slow: not complete after 1 s"):
        data.download(cache, mirrors=[url], timeout=5, deadline=1)
    assert time.monotonic() - start < 4
    assert os.listdir(cache) == []
    server.shutdown()


def test_a_failed_download_removes_the_damaged_file_and_training_falls_back(cache):
    for name in data.FILES:
        shutil.copy(data.SHIPPED / name, cache / name)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"half a file")
    server, url = serve(Missing)
    with pytest.raises(FileError, match="could not download t10k-labels"):
        data.download(cache, mirrors=[url])
    server.shutdown()
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(cache)
    assert data.default_folder()[0] == data.SHIPPED


def test_a_damaged_cache_is_not_used(cache, capsys):
    for name in data.FILES:
        shutil.copy(data.SHIPPED / name, cache / name)
    assert data.default_folder()[0] == cache
    (cache / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
    folder, where = data.default_folder()
    assert folder == data.SHIPPED and "shipped" in where
    assert "cached train-images-idx3-ubyte.gz is damaged" in capsys.readouterr().err


def test_the_shipped_digits_are_package_data_of_a_plain_install(tmp_path):
    """Build the wheel, install it (not editable) and train from it, far from the sources."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    shutil.copytree(ROOT / "convcli", src / "convcli", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src],
        capture_output=True,
        text=True,
    )
    if build.returncode:
        pytest.skip(f"cannot build a wheel here: {build.stderr[-300:]}")
    wheel = next((tmp_path / "dist").glob("convcli-*.whl"))
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", tmp_path / "site", wheel],
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "site"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    p = subprocess.run(
        [
            tmp_path / "site" / "bin" / "convcli",
            "train-mnist",
            "--limit",
            "50",
            "--epochs",
            "1",
            "--arch",
            "fc:n=10",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert str(tmp_path / "site" / "convcli" / "data" / "mnist") in json.loads(p.stdout)["data"]


PACKAGE = pathlib.Path(convcli.__file__).resolve().parent


def test_the_subset_lives_inside_the_package_and_installs_with_it():
    assert data.SHIPPED.is_relative_to(PACKAGE)
    assert sorted(p.name for p in data.SHIPPED.glob("*.gz")) == sorted(data.FILES)
    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / "setup.cfg")
    pattern = config["options.package_data"]["convcli"].strip()
    assert sorted(p.name for p in PACKAGE.glob(pattern)) == sorted(data.FILES)


def test_without_a_cache_training_data_is_the_shipped_subset(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder, where = data.default_folder()
    assert folder == data.SHIPPED and where.startswith("the MNIST subset shipped in samples/")
