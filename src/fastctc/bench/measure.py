"""Timing, the machine's memory-bandwidth floor, and peak memory."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def median_seconds(
    run: Callable[[], Any],
    *,
    warm_up: bool = True,
    min_runs: int = 5,
    min_seconds: float = 0.3,
    max_runs: int = 50,
    max_seconds: float = 20.0,
) -> float:
    """The median wall time of run(), after a warm-up call unless the caller has made
    one: at least min_runs calls and min_seconds of calls, at most max_runs; a slow
    implementation stops once its calls have taken max_seconds (one call at least)."""
    if warm_up:
        run()
    times: list[float] = []
    while len(times) < max_runs and (len(times) < min_runs or sum(times) < min_seconds):
        if times and sum(times) >= max_seconds:
            break
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_best_seconds(
    runs: Sequence[Callable[[], Any]],
    *,
    rounds: int = 7,
    block_seconds: float = 0.02,
    max_seconds: float = 20.0,
) -> list[float]:
    """The time per call of each of runs, timed in alternation: each round calls each
    run in turn, in a block of calls that takes about block_seconds (one call at
    least, sized from a first, warm-up call), so that all see the same stretch of a
    shared machine and a run that switches the thread count pays for it once a
    block.  The best round of each, of at most `rounds` and stopping once the calls
    have taken max_seconds: on a shared machine, the one least disturbed (a
    neighbour that takes a core slows a two-thread block for its whole length)."""
    calls = []
    for run in runs:
        start = time.perf_counter()
        run()
        calls.append(max(1, int(block_seconds / max(time.perf_counter() - start, 1e-9))))
    times: list[list[float]] = [[] for _ in runs]
    spent = 0.0
    while len(times[0]) < rounds and spent < max_seconds:
        for run, count, taken in zip(runs, calls, times):
            start = time.perf_counter()
            for _ in range(count):
                run()
            elapsed = time.perf_counter() - start
            taken.append(elapsed / count)
            spent += elapsed
    return [min(taken) for taken in times]


@contextmanager
def _floor_copy(array: np.ndarray, threads: int) -> Iterator[Callable[[], None]]:
    """A plain pass that reads ``array`` and writes a copy of it, split over
    ``threads`` threads."""
    source = array.reshape(-1)
    target = np.empty_like(source)
    bounds = np.linspace(0, source.size, threads + 1).astype(int)
    chunks = list(zip(bounds[:-1], bounds[1:]))
    with ThreadPoolExecutor(threads) as pool:

        def copy() -> None:
            list(pool.map(lambda c: np.copyto(target[c[0] : c[1]], source[c[0] : c[1]]), chunks))

        yield copy


def bandwidth_floor(array: np.ndarray, threads: int) -> float:
    """The median time of the floor's copy of ``array`` on ``threads`` threads: no
    CTC can take less than reading its logits and writing their gradient."""
    with _floor_copy(array, threads) as copy:
        return median_seconds(copy)


def floor_scaling(array: np.ndarray, threads: int) -> tuple[float, float]:
    """The floor's copy of ``array`` on one thread and on ``threads``, timed as
    fastctc's thread scaling is (interleaved_best_seconds()): how far the machine's
    memory lets a pass that only streams the data speed up."""
    with _floor_copy(array, 1) as one, _floor_copy(array, threads) as many:
        one_seconds, many_seconds = interleaved_best_seconds([one, many])
    return one_seconds, many_seconds


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_extra_bytes(run: Callable[[], Any]) -> int | None:
    """How far one call of run() raises the process's resident memory above what
    it held before (Linux: resets and reads the peak, VmHWM); None elsewhere."""
    try:
        before = _status_kib("VmRSS")
        _CLEAR_REFS.write_text("5")  # reset VmHWM to the current RSS
        run()
        return max(0, _status_kib("VmHWM") - before) * 1024
    except (OSError, KeyError):
        return None
