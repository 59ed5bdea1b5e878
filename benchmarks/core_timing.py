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
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import fastctc
from fastctc.bench.measure import interleaved_best_seconds
from fastctc.bench.problems import Shape, make_problem

Array = npt.NDArray[Any]


@dataclass
class Case:
    """One argument: its problem, reused outputs, and the public call on them."""

    label: str
    threads: int
    loss_only: bool
    logits: Array
    labels: Array
    lengths: tuple[Array | None, Array | None]  # none where the batch is full
    losses: Array
    grad: Array

    def call(self) -> object:
        if self.loss_only:
            return fastctc.ctc_loss(
                self.logits, self.labels, *self.lengths, num_threads=self.threads, out=self.losses
            )
        return fastctc.ctc_loss_and_grad(
            self.logits,
            self.labels,
            *self.lengths,
            num_threads=self.threads,
            out=self.losses,
            grad_out=self.grad,
        )


def case(spec: str) -> Case:
    text, *options = spec.split(":")
    shape = Shape.parse(text)
    threads = int(options[0]) if options else 1
    loss_only = "loss" in options[1:]
    dtype = np.float64 if "f64" in options[1:] else np.float32
    problem = make_problem(shape, dtype, seed=0)
    # Full lengths are passed as none, as a caller with a full batch would.
    trimmed = shape.variable or bool((problem.label_lengths < shape.labels).any())
    lengths = (problem.input_lengths, problem.label_lengths) if trimmed else (None, None)
    what = (" loss only" if loss_only else "") + (" float64" if dtype == np.float64 else "")
    return Case(
        label=f"T,N,C,L={text} threads={threads}{what}",
        threads=threads,
        loss_only=loss_only,
        logits=problem.logits,
        labels=problem.labels,
        lengths=lengths,
        losses=np.empty(shape.batch, dtype),
        grad=np.empty_like(problem.logits),
    )


def main(specs: list[str], rounds: int = 7) -> None:
    if not specs:
        return
    cases = [case(spec) for spec in specs]
    # Every round, however long the arguments take: the script promises 7.
    best = interleaved_best_seconds(
        [c.call for c in cases], rounds=rounds, max_seconds=float("inf")
    )
    for c, seconds in zip(cases, best):
        print(f"{c.label}: {seconds * 1e3:.3f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
