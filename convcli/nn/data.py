"""MNIST-format data: the IDX reader, where the data lives, and the checked download."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, FileError

FILES = {  # the canonical four files and their published MD5 checksums
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "mnist"  # package data (samples/mnist)
DEADLINE = 600  # seconds for one file, however slowly a mirror trickles it
_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip or raw), checking its magic number and size."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise FileError(f"{path}: cannot read ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _TYPES or not 1 <= raw[3] <= 4:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_TYPES[raw[2]])
    need = int(np.prod(shape)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != need:
        raise DataError(f"{path}: IDX header says {shape} ({need} bytes) but {len(body)} follow")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


@dataclass
class Dataset:
    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) int
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.exists():
            return candidate
    return None


def load(folder) -> Dataset:
    """The four MNIST-format files of ``folder`` (gzipped or not)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileError(f"{folder}: no such folder")
    parts = []
    for name in FILES:
        path = _find(folder, name)
        if path is None:
            raise FileError(f"{folder}: missing {name} (or {name.removesuffix('.gz')})")
        parts.append(read_idx(path))
    for images, labels, which in ((parts[0], parts[1], "train"), (parts[2], parts[3], "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"{folder}: {which} images {images.shape} and labels {labels.shape} do not match"
            )
    return Dataset(
        parts[0], parts[1].astype(np.int64), parts[2], parts[3].astype(np.int64), str(folder)
    )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "convcli" / "mnist"


def default_folder() -> tuple[Path, str]:
    """The full MNIST in the cache if it is complete and sound, else the shipped subset."""
    cache = cache_dir()
    if all(_find(cache, name) for name in FILES):
        damaged = [name for name in FILES if not _sound(cache, name)]
        if not damaged:
            return cache, f"MNIST from the cache ({cache})"
        from ..messages import notice

        notice(
            f"the cached {damaged[0]} is damaged (checksum mismatch); using the shipped "
            "subset (--download fetches it again)"
        )
    if all(_find(SHIPPED, name) for name in FILES):
        return SHIPPED, f"the MNIST subset shipped in samples/ ({SHIPPED})"
    raise FileError("no MNIST data: give --data DIR, or --download the full set")


def _sound(folder: Path, name: str) -> bool:
    """A cached .gz must have its published checksum; an unpacked file is taken as it is."""
    path = folder / name
    try:
        return not path.exists() or _md5(path) == FILES[name]
    except OSError:
        return False


def _md5(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    folder=None, mirrors=(), checksums=None, progress=None, timeout=30, deadline=None
) -> Path:
    """Fetch the four files into ``folder``, verified, each written atomically.

    Mirrors are tried in order (``mirrors`` before the usual ones) for each file;
    a file whose checksum does not match is deleted and the next mirror tried.
    ``timeout`` bounds each read, ``deadline`` (default ``DEADLINE``) each file's
    whole transfer. A file no mirror delivers leaves no file of that name behind
    (a damaged one already there is removed), so the shipped subset stays in use.
    """
    from ..io.atomic import atomic_path

    folder = Path(folder or cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    checksums = checksums or FILES
    for name, md5 in checksums.items():
        target = folder / name
        if target.exists() and _md5(target) == md5:
            continue
        problems = []
        for mirror in [*mirrors, *MIRRORS]:
            url = mirror.rstrip("/") + "/" + name
            try:
                with atomic_path(str(target)) as tmp:
                    _fetch(url, tmp, timeout, progress, deadline)
                    got = _md5(tmp)
                    if got != md5:
                        raise DataError(f"checksum mismatch (md5 {got}, expected {md5})")
                break
            except (
                OSError,
                urllib.error.URLError,
                http.client.HTTPException,
                DataError,
                ValueError,
            ) as e:
                problems.append(f"{url}: {getattr(e, 'reason', e) or type(e).__name__}")
        else:
            with contextlib.suppress(OSError):
                target.unlink()  # an unverified file would be taken for the full set
            raise FileError(f"could not download {name}: " + "; ".join(problems))
    return folder


def _fetch(url, path, timeout, progress, deadline=None):
    """``url`` into ``path``, each read within ``timeout`` s, the whole within ``deadline`` s."""
    deadline = DEADLINE if deadline is None else deadline
    end = time.monotonic() + deadline
    with (
        urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response,
        open(path, "wb") as out,
    ):
        total = int(response.headers.get("Content-Length") or 0)
        while block := response.read1(1 << 16):  # what has arrived, not a full 64 KiB
            out.write(block)
            if progress:
                progress(url, len(block), total)
            if time.monotonic() > end:
                raise TimeoutError(f"too slow: not complete after {deadline:g} s")
