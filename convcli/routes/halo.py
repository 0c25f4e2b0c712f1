"""Halo exchange for chunked stores: every source chunk read once, its edges shared.

A block of the output needs its input window plus a halo reaching into the
neighbouring chunks. A compressed chunk is decoded whole, so reading that halo
straight from the store decodes up to nine chunks per block (a 3.5 GB store read
as 27.7 GB). Here each source chunk is read once: locally, into a cache shared by
the block threads until its last block is done; on a cluster, as a task (``read``)
whose slivers for the neighbouring blocks are one small task more (``cut``), the
whole chunk going only to the block that owns most of it. Each block then cuts
its window from a :class:`Mosaic` of those pieces with the same
:func:`convcli.pieces.read_window` as ever, and calls the engine once.

Blocks are taken in a sweep along the axis with the most blocks, a bounded window
of them at a time, so the chunks held are about one line of the grid.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import replace

import numpy as np

from ..pieces import Plan, source_index


def axis_tables(p: Plan) -> list[list[list[tuple[int, int, int]]]]:
    """Per axis, per block index: the ``(chunk, lo, hi)`` source samples its window reads.

    ``lo, hi`` are absolute indices on that axis, inside chunk ``chunk``; padding is
    mapped into the array as :func:`convcli.pieces.read_window` maps it.
    """
    tables = []
    for ax, c, n, sizes in zip(p.geometry, p.source.chunks, p.source.shape, p.chunks):
        rows, o0 = [], 0
        for size in sizes:
            a = o0 * ax.stride - ax.before
            b = (o0 + size - 1) * ax.stride - ax.before + ax.ke
            rows.append(_by_chunk(_selection(a, b, n, p.pad_mode), c))
            o0 += size
        tables.append(rows)
    return tables


def _selection(a: int, b: int, n: int, pad_mode: str):
    """The source indices of window ``[a, b)``: the clipped slice for zero or constant
    padding, else the mirrored/wrapped/clamped indices."""
    if pad_mode in ("zeros", "constant"):
        lo = min(max(a, 0), n)
        return np.arange(lo, max(min(b, n), lo))
    s = source_index(a, b, n, pad_mode)
    return np.arange(s.start, s.stop) if isinstance(s, slice) else s


def _by_chunk(index: np.ndarray, c: int) -> list[tuple[int, int, int]]:
    ids = index // c
    return [
        (int(k), int(index[ids == k].min()), int(index[ids == k].max()) + 1) for k in np.unique(ids)
    ]


def needs(tables, index) -> list[tuple[tuple[int, ...], tuple[tuple[int, int], ...]]]:
    """``(chunk id, box)`` for every chunk block ``index`` reads; ``box`` is (lo, hi) per axis."""
    rows = [tables[a][i] for a, i in enumerate(index)]
    return [
        (tuple(k for k, _, _ in parts), tuple((lo, hi) for _, lo, hi in parts))
        for parts in itertools.product(*rows)
    ]


def inverse(tables) -> list[dict[int, list[tuple[int, int, int]]]]:
    """Per axis, per chunk: the ``(block, lo, hi)`` of each block whose window reads it."""
    out = []
    for rows in tables:
        by_chunk: dict = {}
        for i, row in enumerate(rows):
            for k, lo, hi in row:
                by_chunk.setdefault(k, []).append((i, lo, hi))
        out.append(by_chunk)
    return out


def readers(inv, cid) -> list[tuple[tuple[int, ...], tuple[tuple[int, int], ...]]]:
    """``(block index, box)`` for every block that reads chunk ``cid`` (``inv`` from
    :func:`inverse`)."""
    per_axis = [by_chunk[k] for by_chunk, k in zip(inv, cid)]
    return [
        (tuple(i for i, _, _ in parts), tuple((lo, hi) for _, lo, hi in parts))
        for parts in itertools.product(*per_axis)
    ]


def chunk_box(source, cid) -> tuple[tuple[int, int], ...]:
    """Chunk ``cid``'s (lo, hi) per leading axis, clipped to the array."""
    return tuple((k * c, min((k + 1) * c, n)) for k, c, n in zip(cid, source.chunks, source.shape))


def is_home(source, cid, box) -> bool:
    """Whether a block's box holds most of the chunk: it takes the chunk whole, not a sliver."""
    whole = math.prod(hi - lo for lo, hi in chunk_box(source, cid))
    return 2 * math.prod(hi - lo for lo, hi in box) > whole


def read_chunk(source, cid) -> np.ndarray:
    """Chunk ``cid`` of ``source``, all its channels: one decode of one chunk.

    Returns
    -------
    ndarray of shape (chunk_0, ..., *channels), the source's dtype
    """
    return np.asarray(source[tuple(slice(lo, hi) for lo, hi in chunk_box(source, cid))])


def cut(chunk: np.ndarray, origin, boxes) -> dict:
    """The slivers ``boxes`` of a chunk whose first sample sits at ``origin``, as copies
    (a view would keep the whole chunk alive)."""
    return {
        box: np.array(chunk[tuple(slice(lo - o, hi - o) for (lo, hi), o in zip(box, origin))])
        for box in boxes
    }


class Mosaic:
    """Stands in for the source inside one block: the pieces of chunks it read, by chunk.

    ``pieces`` maps a chunk id to ``(origin, array)``; :func:`convcli.pieces.take`
    asks for one chunk at a time, by slices or index arrays in source coordinates.
    """

    def __init__(self, source, pieces: dict):
        self.shape, self.dtype, self.chunks = source.shape, source.dtype, source.chunks
        self.pieces = pieces

    def _local(self, index):
        first = [i.start if isinstance(i, slice) else int(i[0]) for i in index]
        origin, piece = self.pieces[tuple(f // c for f, c in zip(first, self.chunks))]
        shifted = tuple(
            slice(i.start - o, i.stop - o) if isinstance(i, slice) else i - o
            for i, o in zip(index, origin)
        )
        return piece, shifted

    def __getitem__(self, index):
        piece, shifted = self._local(index)
        return piece[shifted]

    @property
    def oindex(self):
        return _Outer(self)


class _Outer:
    def __init__(self, mosaic):
        self.mosaic = mosaic

    def __getitem__(self, arrays):
        piece, shifted = self.mosaic._local(arrays)
        return piece[np.ix_(*shifted)]


def block_from(p: Plan, target: str, index, parts) -> int:
    """Write block ``index`` from its pieces: ``(chunk id, origin, array)`` or
    ``(chunk id, box, slivers)`` with ``slivers[box]`` the array; as
    :func:`convcli.routes.blockwrite.write_block`, whose count of values it returns."""
    from .blockwrite import write_block

    pieces = {}
    for cid, where, value in parts:
        if isinstance(value, dict):
            pieces[cid] = (tuple(lo for lo, _ in where), value[where])
        else:
            pieces[cid] = (where, value)
    return write_block(replace(p, source=Mosaic(p.source, pieces)), target, index)


def sweep(p: Plan):
    """Block indices, the axis with the most blocks outermost: the front is one short line."""
    counts = [len(c) for c in p.chunks]
    order = sorted(range(len(counts)), key=lambda a: -counts[a])
    for swept in itertools.product(*(range(counts[a]) for a in order)):
        index = [0] * len(counts)
        for a, i in zip(order, swept):
            index[a] = i
        yield tuple(index)


def read_ratio(p: Plan) -> float:
    """Source bytes read per byte of the source: each chunk a block needs, once (chunked
    sources), or each block's window with its halo (memory-mapped ones)."""
    total = math.prod(p.source.shape) or 1
    if getattr(p.source, "chunks", None) is None:
        channels = math.prod(p.source.shape[len(p.chunks) :])
        read = 0
        for index in p.blocks():
            bounds = p.bounds(index)
            read += math.prod(
                min((o1 - 1) * ax.stride - ax.before + ax.ke, ax.n)
                - max(o0 * ax.stride - ax.before, 0)
                for (o0, o1), ax in zip(bounds, p.geometry)
            )
        return read * channels / total
    tables = axis_tables(p)
    touched = [sorted({k for row in rows for k, _, _ in row}) for rows in tables]
    channels = math.prod(p.source.shape[len(p.chunks) :])
    read = sum(
        math.prod(hi - lo for lo, hi in chunk_box(p.source, cid))
        for cid in itertools.product(*touched)
    )
    return read * channels / total


class Shared:
    """Chunks decoded once and shared by this process's block threads, each dropped after
    the last block that reads it."""

    def __init__(self, p: Plan):
        self.p, self.tables = p, axis_tables(p)
        self.inv = inverse(self.tables)
        self.lock = threading.Lock()
        self.entries: dict = {}  # chunk id -> [lock, array or None, readers left]

    def get(self, cid) -> np.ndarray:
        with self.lock:
            entry = self.entries.get(cid)
            if entry is None:
                entry = self.entries[cid] = [threading.Lock(), None, len(readers(self.inv, cid))]
        with entry[0]:  # one thread decodes, the others wait for that one
            if entry[1] is None:
                entry[1] = read_chunk(self.p.source, cid)
        return entry[1]

    def release(self, cid) -> None:
        with self.lock:
            entry = self.entries[cid]
            entry[2] -= 1
            if entry[2] <= 0:
                del self.entries[cid]


def local_block(shared: Shared, target: str, index) -> int:
    """One block on this machine, its chunks from ``shared``."""
    p, wanted = shared.p, needs(shared.tables, index)
    try:
        parts = [(cid, _origin(p.source, cid), shared.get(cid)) for cid, _ in wanted]
        return block_from(p, target, index, parts)
    finally:
        for cid, _ in wanted:
            shared.release(cid)


def run_local(p: Plan, target: str, progress, threads: int) -> None:
    """Every block on ``threads`` threads, a window of them at a time, chunks read once."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    shared, blocks = Shared(p), sweep(p)
    total, done, live = math.prod(len(c) for c in p.chunks), 0, set()
    with ThreadPoolExecutor(threads) as pool:
        try:
            for index in itertools.islice(blocks, 2 * threads):
                live.add(pool.submit(local_block, shared, target, index))
            while live:
                finished, live = wait(live, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done += 1
                    progress(done, total)
                for index in itertools.islice(blocks, len(finished)):
                    live.add(pool.submit(local_block, shared, target, index))
        except BaseException:
            for future in live:
                future.cancel()
            raise


def read_planned(p: Plan, cid) -> np.ndarray:
    """:func:`read_chunk` of the plan's source: the task a worker runs."""
    return read_chunk(p.source, cid)


def _origin(source, cid) -> tuple[int, ...]:
    return tuple(lo for lo, _ in chunk_box(source, cid))


def submitted(client, p: Plan, shared_plan, target: str, held: dict):
    """Submit the sweep's tasks lazily and yield each block's future: before a block, the
    reads and cuts of the chunks it needs (each once). ``held`` keeps the futures that
    later blocks still need (so that a cancel reaches them too): a chunk's read only
    until the blocks that take it whole are submitted and its cut exists, since a held
    future keeps its 64 MB on a worker; the cut until its last reader."""
    tables = axis_tables(p)
    inv, left = inverse(tables), {}
    for index in sweep(p):
        parts = []
        for cid, box in needs(tables, index):
            if cid not in left:
                boxes = [b for _, b in readers(inv, cid)]
                homes = sum(is_home(p.source, cid, b) for b in boxes)
                left[cid] = [len(boxes), homes, homes < len(boxes)]  # readers, homes, cut?
            home = is_home(p.source, cid, box)
            parts.append(_part(client, p, shared_plan, inv, held, cid, box, home))
            count = left[cid]
            count[0] -= 1
            count[1] -= home
            if count[1] == 0 and (not count[2] or ("cut", cid) in held):
                held.pop(("read", cid), None)  # the scheduler frees it after its tasks
            if count[0] == 0:
                held.pop(("cut", cid), None)
                del left[cid]
        yield client.submit(block_from, shared_plan, target, index, parts, pure=False)


def _part(client, p, shared_plan, inv, held, cid, box, home):
    """The piece of chunk ``cid`` one block gets: the whole chunk if the block owns most of
    it, else its sliver among the chunk's cut."""
    origin = _origin(p.source, cid)
    sliver = held.get(("cut", cid))
    if not home and sliver is not None:
        return (cid, box, sliver)
    read = held.get(("read", cid))
    if read is None:
        read = held[("read", cid)] = client.submit(read_planned, shared_plan, cid, pure=False)
    if home:
        return (cid, origin, read)
    boxes = sorted({b for _, b in readers(inv, cid) if not is_home(p.source, cid, b)})
    sliver = held[("cut", cid)] = client.submit(cut, read, origin, boxes, pure=False)
    return (cid, box, sliver)
