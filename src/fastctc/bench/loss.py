"""``python -m fastctc bench``: the CTC loss and gradient, fastctc beside every peer.

For each shape, every implementation (peers.py) runs on the same seeded logits
(problems.py) with the same thread count. Each is checked against fastctc's float64
answer (the loss sum's relative error, the largest absolute error of the logits
gradient) and timed (the median of repeated calls, measure.py). The table gives each
time, its ratio to fastctc's, fastctc's ratio to the machine's bandwidth floor (one
pass reading the logits and writing as much: no CTC can take less), and how far one
call raises the process's peak memory; with more than one thread, a last line gives
fastctc's speed-up over one thread, both timed in alternating rounds, beside the floor
copy's (on large arrays, the most the machine's memory lets any pass over the data gain;
on small ones, where the copy takes microseconds, its thread pool costs more than it
saves).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

import fastctc
from fastctc import _ctc
from fastctc.bench.measure import (
    bandwidth_floor,
    floor_scaling,
    interleaved_best_seconds,
    median_seconds,
    peak_extra_bytes,
)
from fastctc.bench.peers import Peer, fastctc_peer, installed_peers
from fastctc.bench.problems import Problem, Shape, make_problem


@dataclass(frozen=True)
class Row:
    shape: str
    implementation: str
    median_ms: float
    vs_fastctc: float  # this time / fastctc's
    loss_error: float  # |loss sum - float64| / |float64|
    grad_error: float | None  # max |grad - float64 grad|; None for the loss alone
    peak_extra_mb: float | None


@dataclass(frozen=True)
class ThreadScaling:
    """fastctc on one thread and on the benchmark's threads, timed in alternation
    (measure.interleaved_best_seconds())."""

    threads: int
    one_thread_ms: float
    threads_ms: float
    speedup: float  # one_thread_ms / threads_ms
    floor_speedup: float  # the floor's copy timed the same way: the memory's limit


@dataclass(frozen=True)
class ShapeReport:
    shape: str
    floor_ms: float  # reading the logits and writing as much, same threads
    fastctc_vs_floor: float
    rows: list[Row]
    scaling: ThreadScaling | None  # None with one thread


def _exact(problem: Problem, loss_only: bool) -> tuple[float, np.ndarray | None]:
    args = (
        problem.logits.astype(np.float64),
        problem.labels,
        problem.input_lengths,
        problem.label_lengths,
    )
    if loss_only:
        return float(fastctc.ctc_loss(*args, reduction="sum")), None
    loss, grad = fastctc.ctc_loss_and_grad(*args, reduction="sum")
    return float(loss), grad


def _progress(stream: TextIO, text: str) -> None:
    if stream.isatty():
        stream.write(f"\r\033[K{text}")
        stream.flush()


def measure_shape(
    shape: Shape,
    peers: list[Peer],
    dtype: type,
    loss_only: bool,
    threads: int,
    seed: int,
    progress: TextIO,
    label: str = "",
    with_scaling: bool = True,
) -> ShapeReport:
    problem = make_problem(shape, dtype, seed)
    exact_loss, exact_grad = _exact(problem, loss_only)
    rows: list[Row] = []
    fastctc_seconds = 0.0
    fastctc_run = None  # the first peer's run: fastctc on the benchmark's threads
    for peer in peers:
        _progress(progress, f"{label}{shape}: {peer.name}")
        prepared = peer.prepare(problem, loss_only)
        fastctc_run = fastctc_run or prepared.run
        loss, grad = prepared.fetch(prepared.run())  # also the warm-up call
        seconds = median_seconds(prepared.run, warm_up=False)
        fastctc_seconds = fastctc_seconds or seconds
        peak = peak_extra_bytes(prepared.run)
        rows.append(
            Row(
                shape=str(shape),
                implementation=peer.name,
                median_ms=seconds * 1e3,
                vs_fastctc=seconds / fastctc_seconds,
                loss_error=abs(loss - exact_loss) / abs(exact_loss),
                grad_error=None
                if grad is None or exact_grad is None
                else float(np.max(np.abs(grad - exact_grad))),
                peak_extra_mb=None if peak is None else peak / 2**20,
            )
        )
    floor = bandwidth_floor(problem.logits, threads)
    scaling = None
    if with_scaling and threads > 1 and fastctc_run is not None:
        _progress(progress, f"{label}{shape}: fastctc on 1 and {threads} threads")
        one_thread_run = fastctc_peer(1).prepare(problem, loss_only).run
        one, many = interleaved_best_seconds([one_thread_run, fastctc_run])
        floor_one, floor_many = floor_scaling(problem.logits, threads)
        scaling = ThreadScaling(threads, one * 1e3, many * 1e3, one / many, floor_one / floor_many)
    return ShapeReport(str(shape), floor * 1e3, fastctc_seconds / floor, rows, scaling)


def format_report(report: ShapeReport) -> str:
    lines = [
        f"{report.shape}: floor {report.floor_ms:.3f} ms, fastctc / floor "
        f"{report.fastctc_vs_floor:.2f}",
        f"  {'implementation':<44}{'median ms':>11}{'vs fastctc':>12}{'loss err':>10}"
        f"{'grad err':>10}{'peak MB':>9}",
    ]
    for row in report.rows:
        grad = "-" if row.grad_error is None else f"{row.grad_error:.0e}"
        peak = "-" if row.peak_extra_mb is None else f"{row.peak_extra_mb:.1f}"
        lines.append(
            f"  {row.implementation:<44}{row.median_ms:>11.3f}{row.vs_fastctc:>11.1f}x"
            f"{row.loss_error:>10.0e}{grad:>10}{peak:>9}"
        )
    if report.scaling is not None:
        s = report.scaling
        lines.append(
            f"  fastctc on 1 and {s.threads} threads (best of rounds in alternation): "
            f"{s.one_thread_ms:.3f} and {s.threads_ms:.3f} ms, {s.speedup:.2f}x "
            f"(the floor's copy: {s.floor_speedup:.2f}x)"
        )
    return "\n".join(lines)


def plot_batch_scaling(
    shape: Shape,
    peers: list[Peer],
    dtype: type,
    loss_only: bool,
    threads: int,
    seed: int,
    path: Path,
    progress: TextIO,
) -> None:
    """Time against batch size (1, 2, 4, ... N) for each implementation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batches = sorted({min(2**k, shape.batch) for k in range(shape.batch.bit_length() + 1)})
    figure, axes = plt.subplots(figsize=(7, 4.5))
    reports = [
        measure_shape(
            shape.with_batch(n),
            peers,
            dtype,
            loss_only,
            threads,
            seed,
            progress,
            label="plot: ",
            with_scaling=False,
        )
        for n in batches
    ]
    for i, peer in enumerate(peers):
        axes.loglog(batches, [r.rows[i].median_ms for r in reports], marker="o", label=peer.name)
    axes.set_xlabel("batch size N")
    axes.set_ylabel("median time (ms)")
    what = "loss" if loss_only else "loss + gradient"
    axes.set_title(
        f"CTC {what}, T={shape.frames} C={shape.classes} L={shape.labels}, "
        f"{np.dtype(dtype).name}, {threads} threads"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def run_bench(
    shapes: list[Shape],
    *,
    threads: int,
    dtype: type,
    loss_only: bool,
    seed: int,
    json_path: Path | None,
    plot_path: Path | None,
    skip: Sequence[str] = (),
    stream: TextIO | None = None,
    progress: TextIO | None = None,
) -> list[ShapeReport]:
    """Measures every shape, writes the tables to stream (default stdout) and a
    progress line to progress (default stderr, on a terminal only).  Peers whose
    name contains any text in skip (case-insensitive) are left out; fastctc never is."""
    stream = sys.stdout if stream is None else stream
    progress = sys.stderr if progress is None else progress
    fastctc_peer, *others = installed_peers(threads, dtype)
    left_out = [p for p in others if any(text.lower() in p.name.lower() for text in skip)]
    peers = [fastctc_peer] + [p for p in others if p not in left_out]
    what = "loss" if loss_only else "loss + gradient w.r.t. logits"
    stream.write(
        f"CTC {what}, {np.dtype(dtype).name}, {threads} threads, SIMD "
        f"{_ctc.simd_level()}; median of repeated calls\n"
    )
    if left_out:
        stream.write(f"left out (--skip): {', '.join(p.name for p in left_out)}\n")
    stream.write("\n")
    reports = []
    for i, shape in enumerate(shapes, 1):
        report = measure_shape(
            shape, peers, dtype, loss_only, threads, seed, progress, label=f"[{i}/{len(shapes)}] "
        )
        _progress(progress, "")
        stream.write(format_report(report) + "\n\n")
        stream.flush()
        reports.append(report)
    if json_path is not None:
        json_path.write_text(json.dumps([asdict(r) for r in reports], indent=2))
    if plot_path is not None:
        plot_batch_scaling(shapes[0], peers, dtype, loss_only, threads, seed, plot_path, progress)
        _progress(progress, "")
    return reports
