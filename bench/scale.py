"""What limits a convcli batch at 10, 100 and 1,000 workers: a simulation, not a cluster.

Usage: python bench/scale.py [--rate 300] [--files 200000] [--seconds 0.087] [--bytes 2e6]
                             [--bandwidth 1e9]

convcli's windowed submission (:func:`convcli.cluster.run_pairs`: groups of files, a
window of four groups per worker thread, refilled as results come back) run against a
*stub* scheduler: one queue that spends ``1/rate`` seconds on each task (the rate
bench/cluster.py measures for empty tasks), worker threads that spend the files'
seconds, and storage that serves ``bandwidth`` bytes per second to all of them. It
is a model of where the time goes, to read beside the measured rows; Dask stays the
engine of every real run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import heapq


def simulate(
    files: int,
    workers: int,
    seconds: float,
    nbytes: float,
    rate: float,
    bandwidth: float,
    group: int,
    window_per_thread: int = 4,
) -> tuple[float, float]:
    """(files per second, seconds to the first result) of one batch.

    Each task (``group`` files) passes the scheduler (``1/rate`` s, one task at a time),
    waits for a free worker thread, reads its bytes through the shared storage (one
    read at a time at ``bandwidth``), computes, and passes the scheduler again on the
    way back; the client then submits the next task of the window.
    """
    tasks = -(-files // group)
    window = window_per_thread * workers
    scheduler_free = storage_free = 0.0
    idle = workers  # worker threads free
    waiting: list[float] = []  # tasks scheduled, no thread yet (their ready times)
    events: list[tuple[float, int, str]] = []  # (time, order, kind)
    order = submitted = done = 0
    first = None

    def schedule(at: float) -> None:
        nonlocal scheduler_free, order, submitted
        scheduler_free = max(scheduler_free, at) + 1 / rate
        heapq.heappush(events, (scheduler_free, order, "ready"))
        order += 1
        submitted += 1

    for _ in range(min(window, tasks)):
        schedule(0.0)
    now = 0.0
    while done < tasks:
        now, _, kind = heapq.heappop(events)
        if kind == "ready":
            waiting.append(now)
        elif kind == "finished":
            idle += 1
            scheduler_free = max(scheduler_free, now) + 1 / rate  # the result comes back
            done += 1
            first = first if first is not None else scheduler_free
            if submitted < tasks:
                schedule(scheduler_free)
        while idle and waiting:
            waiting.pop()
            idle -= 1
            storage_free = max(storage_free, now) + group * nbytes / bandwidth
            heapq.heappush(events, (storage_free + group * seconds, order, "finished"))
            order += 1
    return files / max(now, scheduler_free), first


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="scheduler tasks per second")
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=0.087, help="work per file")
    parser.add_argument("--bytes", type=float, default=2e6, help="bytes read per file")
    parser.add_argument("--bandwidth", type=float, default=1e9, help="storage bytes per second")
    args = parser.parse_args(argv)
    grouped = max(1, round(1.0 / args.seconds))  # about a second of work per task
    print(
        f"{args.files:,} files of {args.seconds * 1000:.0f} ms and {args.bytes / 1e6:g} MB each; "
        f"scheduler {args.rate:g} tasks/s; storage {args.bandwidth / 1e9:g} GB/s\n"
    )
    print("| worker threads | files per task | files/s | first result (s) | bound by |")
    print("|---|---|---|---|---|")
    for workers in (10, 100, 1000):
        for group in (1, grouped):
            throughput, first = simulate(
                args.files, workers, args.seconds, args.bytes, args.rate, args.bandwidth, group
            )
            limits = {
                "workers": workers / args.seconds,
                "scheduler": args.rate / 2 * group,  # each task passes it twice
                "storage": args.bandwidth / args.bytes,
            }
            bound = min(limits, key=limits.get)
            print(f"| {workers:,} | {group} | {throughput:,.0f} | {first:.2f} | {bound} |")


if __name__ == "__main__":
    main()
