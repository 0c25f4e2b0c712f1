"""Long 1-D convolution with a fixed kernel, fed block by block: overlap-save.

Each block of ``L = size - ke + 1`` output frames is one transform of the ``size``
input frames that reach it (the last ``ke - 1`` of the block before, then its own),
a product with the kernel's spectrum and one inverse transform whose first ``ke - 1``
frames (wrapped around) are dropped. Nothing is added across block edges, so the
blocks of one push are independent and are shared out to threads.

Why one large partition, not FFmpeg ``afir``'s uniform partitions of 2 x 8,192: the
uniform design buys latency, and a streaming file needs none. Per output frame,
``K = ke / P`` partitions cost ``K`` complex multiply-adds per bin on top of two short
transforms, against one product and two transforms of about ``4 ke`` for one partition:
for a 1 s response at 44.1 kHz and ``P = 8192``, six multiply-adds against one, and the
uniform design in NumPy and ducc0 ran 2-3x slower (``bench/audio.py``, in the same run).

Transforms are ducc0's (pocketfft's successor, by its author): the GIL released, output
buffers reused, about 6 ms to import where ``scipy.fft`` costs 100-300 ms; per transform
within 5% of ``numpy.fft`` (the same pocketfft) at this route's 3 x 2**16, 0.6-0.8x its
time at 2**14 (``bench/audio.py``). ``numpy.fft`` stands in where ducc0 is missing.
"""

from __future__ import annotations

import os

import numpy as np

WORKERS = min(os.cpu_count() or 1, 4)
_NUMPY_OUT = int(np.__version__.split(".")[0]) >= 2  # numpy.fft takes out= from NumPy 2


def _ducc():
    try:
        import ducc0.fft
    except ImportError:  # pragma: no cover - ducc0 is a dependency; NumPy stands in
        return None
    return ducc0.fft


def ols_size(ke: int) -> int:
    """Transform size for overlap-save with a kernel spanning ``ke`` frames.

    About 8 ``ke`` (fewest operations per output) for short kernels, at least 4,096;
    past 128 k points a transform leaves the cache and costs more per point, so long
    kernels (over 16 k taps) take about 4 ``ke``: 3 x 2**16 for a 1 s response at
    44.1 kHz, where 2**17, 2**18 and 3 x 2**17 cost 1.0-1.4x as much per output frame
    (``bench/audio.py``). Sizes are a power of two times 1 or 3.
    """
    need = max(8 * ke, 1 << 12) if ke <= 1 << 14 else 4 * ke
    return min(f << max(0, (need - 1) // f).bit_length() for f in (1, 3))


class OverlapSave:
    """Full 1-D convolution with a fixed kernel, fed block by block.

    The kernel's spectrum is computed once. ``push`` takes any number of frames and
    returns as many frames of the full result ``y[m] = sum_j x[m-j] w[j]``; ``flush``
    returns the last ``ke - 1``. Memory is a few blocks, whatever the signal's length.

    Parameters
    ----------
    wd : ndarray of shape (ke,) or (ke, channels)
        The kernel in convolution orientation (dilation included); one column filters
        every channel, ``channels`` columns give each channel its own.
    channels : int
        Channels of the signal that will be pushed, shape (frames, channels).
    dtype : float32 or float64
    size : int, optional
        The transform size (default :func:`ols_size`); at least ``ke``.
    workers : int, optional
        Threads that share the blocks of one push.

    Examples
    --------
    >>> conv = OverlapSave(np.array([1.0, 0.5]), 1, size=8)
    >>> np.concatenate([conv.push(np.ones((3, 1))), conv.flush()]).ravel().tolist()
    [1.0, 1.5, 1.5, 0.5]
    """

    def __init__(self, wd, channels: int, dtype=np.float64, size=None, workers=None):
        w = np.asarray(wd, dtype).reshape(len(wd), -1)  # (ke, 1 or C)
        self.ke, self.dtype = w.shape[0], np.dtype(dtype)
        self.size = size or ols_size(self.ke)
        if self.size < self.ke:
            raise ValueError(f"a transform of {self.size} cannot hold {self.ke} taps")
        self.block = self.size - self.ke + 1  # output frames per transform
        self.workers = WORKERS if workers is None else workers
        self._fft = _ducc()
        padded = np.zeros((1, self.size, w.shape[1]), self.dtype)
        padded[0, : self.ke] = w / self.size  # the inverse's 1/size, folded in once
        self.spectrum = self._forward(padded)[0]  # (size//2+1, 1 or C)
        self._x = np.zeros((self.ke - 1, channels), self.dtype)  # held input frames
        self._held = self.ke - 1  # the last ke-1 frames (zeros at first), then pending ones
        self._scratch: dict = {}  # per group of blocks: its spectra and inverse transforms

    def push(self, x: np.ndarray) -> np.ndarray:
        """Feed frames of shape (frames, channels); return the finished output frames."""
        held = self._held
        if held + len(x) > len(self._x):  # room for this push (kept for the next ones)
            grown = np.empty((held + len(x), self._x.shape[1]), self.dtype)
            grown[:held] = self._x[:held]
            self._x = grown
        self._x[held : held + len(x)] = x  # converted to the transform dtype on the way
        held += len(x)
        nb = (held - self.ke + 1) // self.block
        out = np.empty((nb * self.block, self._x.shape[1]), self.dtype)
        groups = np.array_split(np.arange(nb), max(1, min(self.workers, nb)))
        _share([(out, i, g[0], g[-1] + 1) for i, g in enumerate(groups) if len(g)], self._blocks)
        used = nb * self.block
        self._x[: held - used] = self._x[used:held].copy()  # the history and what pends
        self._held = held - used
        return out

    def flush(self) -> np.ndarray:
        """The rest of the full result: what is pending, then the last ``ke - 1`` frames."""
        pending = self._held - (self.ke - 1)
        tail = self.push(np.zeros((self.ke - 1 + self.block, self._x.shape[1]), self.dtype))
        return tail[: pending + self.ke - 1]

    def _blocks(self, out, group, b0, b1):
        """Blocks ``b0...b1-1`` of the held input (frames, C) into their rows of ``out``."""
        L, N, C = self.block, self.size, self._x.shape[1]
        s0, s1 = self._x.strides
        windows = np.lib.stride_tricks.as_strided(  # (nb, N, C), overlapping by ke - 1
            self._x[b0 * L :], (b1 - b0, N, C), (L * s0, s0, s1), writeable=False
        )
        spectra, y = self._buffers(group, b1 - b0, C)
        spectra = self._forward(windows, spectra)  # (nb, N//2+1, C)
        spectra *= self.spectrum
        y = self._inverse(spectra, y)  # (nb, N, C); the first ke-1 frames of each wrapped
        out[b0 * L : b1 * L].reshape(b1 - b0, L, C)[:] = y[:, self.ke - 1 :]

    def _buffers(self, group, count, channels):
        """Spectra and inverse transforms of ``count`` blocks, reused across pushes."""
        key = (group, count)
        if key not in self._scratch:
            shape = (count, self.size // 2 + 1, channels)
            complex_dtype = np.result_type(self.dtype, np.complex64)
            self._scratch[key] = (
                np.empty(shape, complex_dtype),
                np.empty((count, self.size, channels), self.dtype),
            )
        return self._scratch[key]

    def _forward(self, x, out=None):
        """Real transforms along axis 1 of (nb, N, C)."""
        if self._fft is None:
            return np.fft.rfft(x, axis=1, **({"out": out} if _NUMPY_OUT else {}))
        return self._fft.r2c(x, axes=(1,), out=out)

    def _inverse(self, spectra, out=None):
        """Inverse transforms along axis 1, unnormalised (the kernel holds 1/N)."""
        if self._fft is None:
            kw = {"out": out} if _NUMPY_OUT else {}
            return np.fft.irfft(spectra, self.size, axis=1, norm="forward", **kw)
        return self._fft.c2r(
            spectra,
            axes=(1,),
            lastsize=self.size,
            forward=False,
            out=out,
            allow_overwriting_input=True,
        )


def overlap_save_naive(x: np.ndarray, wd: np.ndarray, block: int) -> np.ndarray:
    """The full convolution by the same blocks, each a direct sum: the twin of
    :class:`OverlapSave`.

    Parameters
    ----------
    x : ndarray of shape (n, C)
    wd : ndarray of shape (ke,) or (ke, C)
    block : int
        Output frames per block.

    Returns
    -------
    ndarray of shape (n + ke - 1, C)
    """
    w = wd.reshape(len(wd), -1)
    ke, (n, C) = len(w), x.shape
    xp = np.concatenate([np.zeros((ke - 1, C)), x, np.zeros((ke - 1, C))])
    y = np.zeros((n + ke - 1, C))
    for start in range(0, n + ke - 1, block):
        stop = min(start + block, n + ke - 1)
        for c in range(C):  # outputs start..stop-1 read inputs start-ke+1..stop-1
            window = xp[start : stop + ke - 1, c]
            y[start:stop, c] = np.convolve(window, w[:, c % w.shape[1]], "valid")
    return y


def _share(tasks, work) -> None:
    """``work(*task)`` for every task: the first in this thread, each other in a thread of
    its own (the transforms and NumPy's loops release the GIL); errors are raised here."""
    import threading

    errors: list = []

    def run(task):
        try:
            work(*task)
        except BaseException as e:  # handed to the caller, raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in tasks[1:]]
    for thread in threads:
        thread.start()
    if tasks:
        run(tasks[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
