"""FFT convolution: one big transform, or overlap-add for a long signal and a short kernel.

Both compute the *full* convolution ``y[m] = sum_j x[m-j] * w[j]`` over the leading
``nd`` axes and return only the requested (strided) window of it, so that the
caller never materialises zero padding. Trailing axes are channels.
"""

from __future__ import annotations

import os

import numpy as np

from ..geometry import valid_length

WORKERS = min(os.cpu_count() or 1, 4)


def dilate(w: np.ndarray, nd: int, dilation) -> np.ndarray:
    """Insert ``d-1`` zeros between kernel taps along each of the leading axes."""
    if all(d == 1 for d in dilation):
        return w
    shape = tuple(dilation[a] * (w.shape[a] - 1) + 1 for a in range(nd)) + w.shape[nd:]
    out = np.zeros(shape, dtype=w.dtype)
    out[tuple(slice(None, None, d) for d in dilation)] = w
    return out


def _fft_dtype(x, w):
    """float32 transforms when both operands are float32, else float64."""
    single = x.dtype == np.float32 and w.dtype == np.float32
    return np.float32 if single else np.float64


def _window(y, starts, lengths, strides, sizes):
    """Take indices ``start + i*stride`` (mod the transform size) along each axis."""
    for a, (st, ln, s, size) in enumerate(zip(starts, lengths, strides, sizes)):
        stop = st + s * (ln - 1) + 1
        if st >= 0 and stop <= size:
            index = slice(st, stop, s)
        else:
            index = (st + s * np.arange(ln)) % size
        y = y[(slice(None),) * a + (index,)]
    return y


def fft_window(x, wd, nd, starts, lengths, strides, workers=None):
    """Full convolution of ``x`` and (dilated) ``wd`` by FFT, cropped to a strided window.

    Parameters
    ----------
    x : ndarray of shape (n_0, ..., n_{nd-1}, *channels)
    wd : ndarray of shape (ke_0, ..., ke_{nd-1}) or with the same trailing channels
    starts, lengths, strides : tuple of int per axis
        Output ``i`` of an axis is index ``starts[a] + i*strides[a]`` of the full result
        (outside ``[0, n+ke-1)`` it is zero).

    Returns
    -------
    ndarray of shape (lengths..., *channels)
    """
    import scipy.fft as sfft

    dtype = _fft_dtype(x, wd)
    if nd == 0:  # no axis to transform: the convolution is the product
        return (x * wd).astype(np.result_type(dtype, x, wd), copy=False)
    axes = tuple(range(nd))
    sizes = []
    for a in axes:
        full = x.shape[a] + wd.shape[a] - 1
        end = starts[a] + strides[a] * (lengths[a] - 1)
        # smallest circular size that aliases nothing into the requested window
        sizes.append(sfft.next_fast_len(max(full - starts[a], end + 1, 1), real=True))
    w = wd.reshape(wd.shape[:nd] + (1,) * (x.ndim - wd.ndim) + wd.shape[nd:])
    workers = WORKERS if workers is None else workers
    spectrum = sfft.rfftn(x.astype(dtype, copy=False), sizes, axes=axes, workers=workers)
    spectrum *= sfft.rfftn(w.astype(dtype, copy=False), sizes, axes=axes, workers=workers)
    y = sfft.irfftn(spectrum, sizes, axes=axes, workers=workers)
    return np.ascontiguousarray(_window(y, starts, lengths, strides, sizes))


def oa_block_size(ke: int) -> int:
    """Transform size for overlap-add with a kernel spanning ``ke`` samples.

    About 8 ``ke`` (fewest operations per output), rounded up to a power of two times
    1, 3, 5, 9 or 15: pocketfft runs those up to 1.5x faster than other 5-smooth sizes.
    Past 128 k points a transform spills out of cache and costs up to twice as much per
    point, so long kernels (over 16 k taps) take about 4 ``ke``: 1.4-1.7x faster for a
    1 s impulse response at 44.1 kHz and for 30,001 taps.
    """
    need = max(8 * ke, 512) if ke <= 1 << 14 else 4 * ke
    return min(f << max(0, (need - 1) // f).bit_length() for f in (1, 3, 5, 9, 15))


class OverlapAdd:
    """Full 1-D convolution with a fixed kernel, fed block by block.

    The kernel's FFT is computed once. ``push`` takes any number of frames and
    returns as many frames of the full result; ``flush`` returns the last
    ``ke - 1``. Memory is a few transform blocks, whatever the signal length.

    Parameters
    ----------
    wd : ndarray of shape (ke,) or (ke, channels)
    channels : int
        Channels of the signal that will be pushed, shape (frames, channels).
    dtype : float32 or float64
    """

    def __init__(self, wd, channels: int, dtype=np.float64, size: int | None = None, workers=None):
        import scipy.fft as sfft

        self._fft = sfft
        self.ke = wd.shape[0]
        self.size = size or oa_block_size(self.ke)
        self.block = self.size - self.ke + 1  # input frames per transform
        w2 = wd.reshape(self.ke, -1).T.astype(dtype)  # (1 or C, ke)
        self.spectrum = sfft.rfft(w2, self.size, axis=-1)  # (1 or C, size//2+1)
        self.tail = np.zeros((self.ke - 1, channels), dtype)
        self.pending = np.zeros((0, channels), dtype)
        self.dtype = dtype
        self.workers = WORKERS if workers is None else workers

    def push(self, x: np.ndarray) -> np.ndarray:
        """Feed frames of shape (frames, channels); return the finished output frames."""
        x = x.astype(self.dtype, copy=False)
        if len(self.pending):
            x = np.concatenate([self.pending, x])
        nb = len(x) // self.block
        self.pending = x[nb * self.block :].copy()  # a copy: the caller may reuse its buffer
        if nb == 0:
            return x[:0]
        L, C = self.block, x.shape[1]
        y = self._convolve(x[: nb * L].reshape(nb, L, C))  # (nb, C, size)
        out = np.empty((nb * L, C), self.dtype)
        blocks = out.reshape(nb, L, C)
        blocks[:] = y[:, :, :L].transpose(0, 2, 1)  # back to (frames, channels), one pass
        spill = y[:, :, L : L + self.ke - 1].transpose(0, 2, 1)  # (nb, ke-1, C)
        blocks[1:, : self.ke - 1] += spill[:-1]  # each block's tail into the next block
        out[: self.ke - 1] += self.tail
        self.tail = spill[-1].copy()
        return out

    def _convolve(self, blocks):
        """Full convolutions of (nb, L, C) blocks, channel-first: (nb, C, size).

        pocketfft's own workers split only batches of many transforms (and vectorise
        across them), so a few long rows are shared out to threads here instead (each FFT
        releases the GIL): 1.7x on two cores for a stereo block.
        """
        nb, L, C = blocks.shape
        padded = np.zeros((nb, C, self.size), self.dtype)  # zero-padded transform input
        padded[:, :, :L] = blocks.transpose(0, 2, 1)  # channel-first: contiguous samples
        rows = padded.reshape(nb * C, self.size)  # (M, size)
        if len(rows) >= 8 or len(rows) == 1 or self.workers == 1 or self.size < 1 << 16:
            self._rows(rows, C, self.workers)  # threads cost more than they save
        else:
            groups = np.array_split(np.arange(len(rows)), min(self.workers, len(rows)))
            list(
                _pool(self.workers).map(
                    lambda g: self._rows(rows[g[0] : g[-1] + 1], C, first=g[0]), groups
                )
            )
        return padded

    def _rows(self, rows, channels, workers=1, first=0):
        """Convolve rows ``first...`` of (M, size) in place; row m holds channel m % C."""
        spectrum = self._fft.rfft(rows, axis=-1, workers=workers)
        if len(self.spectrum) == 1:
            spectrum *= self.spectrum
        else:
            spectrum *= self.spectrum[(first + np.arange(len(rows))) % channels]
        rows[:] = self._fft.irfft(spectrum, self.size, axis=-1, workers=workers)

    def flush(self) -> np.ndarray:
        """Convolve what is still pending and return the rest of the full result."""
        n = len(self.pending)
        if n == 0:
            tail, self.tail = self.tail, self.tail[:0]
            return tail
        out = self.push(np.zeros((self.block - n, self.pending.shape[1]), self.dtype))
        return np.concatenate([out, self.tail])[: n + self.ke - 1]


_POOLS: dict = {}


def _pool(workers: int):
    """A thread pool kept for the life of the process."""
    from concurrent.futures import ThreadPoolExecutor

    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="convcli-fft")
    return _POOLS[workers]


SMALL_SAMPLES = 1 << 20  # below this, one thread: a second one costs more than it saves


def oa_full(x, wd, workers=None):
    """Full 1-D convolution by overlap-add. ``x`` is (frames, channels).

    Jobs under :data:`SMALL_SAMPLES` samples run on one thread: at 1e5 x 301 a second
    worker made the call 3-4x slower on a loaded two-core machine (the batch waits for
    the thread that lost its core; bench/run.py once measured 2.6x SciPy there).
    """
    if workers is None and x.size < SMALL_SAMPLES:
        workers = 1
    dtype = _fft_dtype(x, wd)
    conv = OverlapAdd(wd, x.shape[1], dtype, workers=workers)
    chunk_frames = 16 * conv.block  # a batch of transforms that stays in cache
    parts = [conv.push(x[i : i + chunk_frames]) for i in range(0, len(x), chunk_frames)]
    parts.append(conv.flush())
    return np.concatenate(parts)


def polyphase_valid(xp, wf, s, single_block=False, workers=None):
    """Valid correlation of padded ``xp`` with ``wf`` at stride ``s``, by FFT, polyphase.

    Output ``i`` is ``sum_r sum_q x_r[i+q] w_r[q]`` with phases ``x_r = xp[r::s]`` and
    ``w_r = wf[r::s]``: the ``s`` phase products are summed in the frequency domain, so
    each block costs ``s`` forward transforms and one inverse of ``1/s`` the length, and
    no output that the stride drops is ever computed.

    Parameters
    ----------
    xp : ndarray of shape (n, C)
    wf : ndarray of shape (ke, C) or (ke, 1), correlation orientation (dilation included)
    single_block : bool
        One transform over the whole signal instead of overlap-add blocks.

    Returns
    -------
    ndarray of shape ((n - ke) // s + 1, C)
    """
    from .direct import split_phases

    dtype = _fft_dtype(xp, wf)
    ke, m = wf.shape[0], -(-wf.shape[0] // s)  # phase kernels have at most m taps
    out = valid_length(xp.shape[0], ke, s)
    y = np.empty((out, xp.shape[1]), dtype)
    for c in range(xp.shape[1]):
        w = wf[:, c if wf.shape[1] > 1 else 0].astype(dtype)
        kernels = split_phases(w, s, m)[:, ::-1]  # (s, m): row r is w_r, zero-padded, reversed
        x = xp[:, c].astype(dtype, copy=False)
        y[:, c] = _phase_sum(x, s, kernels, out, single_block, workers)
    return y


def _phase_sum(x, s, kernels, out, single_block, workers):
    """``sum_r`` of the full convolutions of ``x[r::s]`` and ``kernels[r]``, cropped to valid."""
    import scipy.fft as sfft

    live = np.flatnonzero(kernels.any(axis=1))  # dilation can leave phases empty
    live = slice(None) if len(live) == s else live
    m = kernels.shape[1]
    n = out + m - 1  # samples of each phase that the outputs read
    size = sfft.next_fast_len(n + m - 1, real=True) if single_block else oa_block_size(m)
    L = size - m + 1  # phase samples per block
    spectra = sfft.rfft(kernels[live], size, axis=-1)[:, None]  # (R, 1, F)
    nb = -(-n // L)
    full = np.zeros((nb + 1) * L, x.dtype)
    batch = max(1, (1 << 16) // size)  # blocks per batch: a few hundred kB of spectra
    workers = WORKERS if workers is None else workers
    for b0 in range(0, nb, batch):
        b1 = min(nb, b0 + batch)
        chunk = x[b0 * L * s : b1 * L * s]  # the samples of blocks b0..b1, interleaved
        if len(chunk) < (b1 - b0) * L * s:
            chunk = np.concatenate([chunk, np.zeros((b1 - b0) * L * s - len(chunk), x.dtype)])
        seg = np.zeros((s, b1 - b0, size), x.dtype)[live]  # (R, B, size), zero-padded
        seg[:, :, :L] = chunk.reshape(b1 - b0, L, s).transpose(2, 0, 1)[live]  # phases
        spectrum = sfft.rfft(seg, axis=-1, workers=workers)
        spectrum *= spectra
        blocks = sfft.irfft(spectrum.sum(axis=0), size, axis=-1, workers=workers)  # (B, size)
        span = full[b0 * L : (b1 + 1) * L]
        span[: (b1 - b0) * L] += blocks[:, :L].reshape(-1)
        span[L:].reshape(b1 - b0, L)[:, : m - 1] += blocks[:, L : L + m - 1]
    return full[m - 1 : m - 1 + out]
