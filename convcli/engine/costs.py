"""The cost model that picks a method: direct, FFT or overlap-add, in nanoseconds."""

from __future__ import annotations

import math

from .spectral import oa_block_size

# Cost model in nanoseconds, fitted on this project's 2-core x86_64 machines (bench/run.py
# measures the result against SciPy): np.correlate costs about 0.1 ns per multiply-add plus a
# per-output overhead that is small for k <= 8; a shifted multiply-add pass about 1 ns per
# element; a whole FFT convolution (three real transforms) about 2.6 ns per point per log2;
# an overlap-add block two transforms at 0.31 ns per point per log2, 3 ns per point and 5 us.
_NS_DOT = 0.1
_NS_SHIFT = 1.0
_NS_FFT = 2.6
_NS_OA = 0.31
_NS_PASS = 4000.0  # fixed cost of one numpy call


def _costs(geometry, channels: int, kernel_taps: int, zero_pad: bool, single=False) -> dict:
    """Estimated nanoseconds of each method for this geometry (``single``: float32 data)."""
    out = math.prod(ax.length for ax in geometry)
    taps = math.prod(ax.k for ax in geometry)
    nd = len(geometry)
    if nd == 1 and (geometry[0].stride == 1 or geometry[0].dilation == 1):
        per_output = _NS_DOT * taps + (0.5 if taps <= 8 else 8.0)
        direct = (out * per_output + _NS_PASS * geometry[0].stride) * channels
    else:
        direct = (out * _NS_SHIFT * channels * (0.5 if single else 1) + _NS_PASS) * kernel_taps
    span = [ax.span if not zero_pad else ax.n + ax.ke - 1 for ax in geometry]
    points = math.prod(span)
    # float32 transforms take half the time; in 2-D the workers split rows between the cores
    speedup = (2 if single else 1) * (2 if nd > 1 else 1)
    fft = points * math.log2(points + 1) * _NS_FFT * channels / speedup + 10 * _NS_PASS
    costs = {"direct": direct, "fft": fft}
    if nd == 1 and geometry[0].stride > 1:
        return _strided_costs(geometry[0], channels, direct)
    if nd == 1 and geometry[0].ke * 16 < geometry[0].span:
        size = oa_block_size(geometry[0].ke)
        blocks = geometry[0].span / (size - geometry[0].ke + 1)
        per_block = size * (2 * math.log2(size) * _NS_OA + 3) + 5000
        costs["oa"] = (blocks * per_block + 40 * _NS_PASS) * channels
    return costs


def _strided_costs(ax, channels: int, direct: float) -> dict:
    """1-D with stride ``s``: polyphase, ``s`` phases of ``m = ceil(ke/s)`` taps, ``out`` each.

    Direct: np.correlate per phase in pieces of up to 11 taps (0.13 ns a tap plus 0.4 ns to
    add each piece), after one interleaved copy. FFT: each block of ``N`` costs ``s`` forward
    transforms and one inverse, about ``(s+1) N (0.31 log2 N + 0.5)`` ns; ``fft`` is one
    block over the whole signal, where a cache-missing transform costs 2.6 ns per log2.
    """
    s, out = ax.stride, ax.length
    m = -(-ax.ke // s)
    pieces = -(-m // 11)
    per_phase = 0.13 * m + 0.4 * pieces if pieces <= 6 else 6 + _NS_DOT * m
    if ax.dilation == 1:
        direct = (out * (s * per_phase + 2) + _NS_PASS * s * pieces) * channels
    n = out + m - 1
    size = oa_block_size(m)
    blocks = n / (size - m + 1)
    oa = blocks * size * (s + 1) * (_NS_OA * math.log2(size) + 0.5) + 10 * _NS_PASS
    big = 2 * n
    fft = big * (s + 1) * _NS_FFT / 3 * math.log2(big) + 10 * _NS_PASS
    return {"direct": direct, "fft": fft * channels, "oa": oa * channels}


def choose_method(geometry, channels=1, kernel_taps=None, zero_pad=True, single=False) -> str:
    """Pick 'direct', 'fft' or 'oa' (overlap-add) by the cost model."""
    taps = kernel_taps if kernel_taps is not None else math.prod(ax.k for ax in geometry)
    costs = _costs(geometry, channels, taps, zero_pad, single)
    return min(costs, key=costs.get)
