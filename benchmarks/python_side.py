"""What a call's Python side costs between native calls.

    python benchmarks/python_side.py 150,32,28,40:2 50,400,30,10,var:2 150,32,28,40:2:loss

Arguments as for core_timing.py. Each argument's public call (`ctc_loss_and_grad`, or
`ctc_loss` with `loss`) alternates with the binding's own call, `fastctc._ctc.ctc_loss`,
on the same arguments checked and normalised once beforehand and the thread's workspace
passed as it is; the best per-call time of 15 rounds of each is printed, and their
difference: what the argument checks, normalisation and allocation of a call
(`fastctc/_api.py`) cost when each call follows native work, which leaves the caches
cold for the interpreter (BENCHMARKS.md, fourteenth session), rather than in a loop of
their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from core_timing import Case, case

from fastctc import _api, _ctc
from fastctc.bench.measure import interleaved_best_seconds


def binding_call(c: Case) -> Callable[[], object]:
    """The binding's call that c's public call makes, its arguments prepared once."""
    problem = _api._prepare(c.logits, c.labels, *c.lengths, 0, "TNC", c.threads)
    grad = None if c.loss_only else c.grad
    workspace = _api._thread_workspace(_api._workspace_bytes(problem, grad is not None))

    def call() -> object:
        return _ctc.ctc_loss(
            *problem.batch,
            blank=problem.blank,
            log_probs=False,
            zero_infinity=False,
            num_threads=problem.num_threads,
            losses_out=c.losses,
            grad_out=grad,
            grad_scale=None,
            workspace=workspace,
        )

    return call


def main(specs: list[str], rounds: int = 15) -> None:
    cases = [case(spec) for spec in specs]
    runs = [run for c in cases for run in (c.call, binding_call(c))]
    best = interleaved_best_seconds(runs, rounds=rounds, max_seconds=float("inf"))
    for c, full, binding in zip(cases, best[::2], best[1::2]):
        print(
            f"{c.label}: call {full * 1e6:.1f} us, binding {binding * 1e6:.1f} us, "
            f"Python side {(full - binding) * 1e6:.1f} us"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
