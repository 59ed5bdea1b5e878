"""fastctc alone, timed on fixed shapes: for comparing two builds of the core.

    python benchmarks/core_timing.py 150,32,28,40 150,32,5000,20:2 800,16,32,150:1:loss:f64

Each argument is T,N,C,L[,var][:threads[:loss][:f64]]: the benchmark's seeded problem
(`fastctc.bench.problems`: float32 logits, float64 with `f64`), every sequence T frames
with a label of L random non-blank classes, or with `var` the benchmark's variable lengths;
`ctc_loss_and_grad` with its outputs reused (or `ctc_loss` with `loss`). Prints the best
per-call time of 7 rounds, each a block of about 20 ms of calls: on a shared machine the
best round is the one least disturbed. The rounds of all the arguments alternate
(`fastctc.bench.measure.interleaved_best_seconds`, as the benchmark's thread-scaling
line), so a shape given with one thread and with two gives a scaling ratio of rounds
taken in the same stretch of time.
Run each build in its own environment, interleaved, more than once; `python -m fastctc
bench` is the comparison with the peers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

import fastctc
from fastctc.bench.measure import interleaved_best_seconds
from fastctc.bench.problems import Shape, make_problem


def timed(spec: str) -> tuple[str, Callable[[], object]]:
    text, *options = spec.split(":")
    shape = Shape.parse(text)
    threads = int(options[0]) if options else 1
    loss_only = "loss" in options[1:]
    dtype = np.float64 if "f64" in options[1:] else np.float32
    problem = make_problem(shape, dtype, seed=0)
    logits, targets = problem.logits, problem.labels
    # Full lengths are passed as none, as a caller with a full batch would.
    trimmed = shape.variable or bool((problem.label_lengths < shape.labels).any())
    lengths = (problem.input_lengths, problem.label_lengths) if trimmed else (None, None)
    losses, grad = np.empty(shape.batch, dtype), np.empty_like(logits)

    def call() -> object:
        if loss_only:
            return fastctc.ctc_loss(logits, targets, *lengths, num_threads=threads, out=losses)
        return fastctc.ctc_loss_and_grad(
            logits, targets, *lengths, num_threads=threads, out=losses, grad_out=grad
        )

    what = (" loss only" if loss_only else "") + (" float64" if dtype == np.float64 else "")
    return f"T,N,C,L={text} threads={threads}{what}", call


def main(specs: list[str], rounds: int = 7) -> None:
    if not specs:
        return
    labels, calls = zip(*(timed(spec) for spec in specs))
    # Every round, however long the arguments take: the script promises 7.
    best = interleaved_best_seconds(calls, rounds=rounds, max_seconds=float("inf"))
    for label, seconds in zip(labels, best):
        print(f"{label}: {seconds * 1e3:.3f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
