"""Many Python threads at once, the GIL, thread counts, and Ctrl-C during a call.

tests/test_fork_and_threads.py covers forked children and a small thread pool; this
module covers many threads sharing inputs with mixed options, that other threads run
while fastctc computes, absurd thread counts, and what Ctrl-C does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import numpy as np
from problems import random_problem

import fastctc

THREADS = 16


def _mixed_calls(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    """Calls over shared read-only inputs: both dtypes, layouts, conventions, reductions."""
    calls = []
    for dtype in (np.float32, np.float64):
        problem = random_problem(rng, frames=40, batch=6, classes=8, max_label=12, dtype=dtype)
        problem.inputs.flags.writeable = False
        ntc = np.ascontiguousarray(problem.inputs.transpose(1, 0, 2))
        ntc.flags.writeable = False
        common = {"labels": problem.labels, "input_lengths": problem.input_lengths}
        for num_threads in (1, 2, None):
            calls += [
                ("ctc_loss", {"inputs": problem.inputs, "num_threads": num_threads, **common}),
                (
                    "ctc_loss_and_grad",
                    {"inputs": ntc, "layout": "NTC", "num_threads": num_threads, **common},
                ),
                (
                    "ctc_loss_and_grad",
                    {
                        "inputs": problem.inputs,
                        "log_probs": True,
                        "reduction": "mean",
                        "num_threads": num_threads,
                        **common,
                    },
                ),
            ]
    return calls


def test_many_threads_at_once_match_sequential_calls(rng: np.random.Generator) -> None:
    calls = _mixed_calls(rng)
    expected = [getattr(fastctc, name)(**kwargs) for name, kwargs in calls]
    start = threading.Barrier(THREADS)
    results: list[list[Any]] = [[] for _ in range(THREADS)]

    def worker(index: int) -> None:
        start.wait()  # every thread enters the core at about the same moment
        for round_ in range(3):
            order = np.random.default_rng(index * 10 + round_).permutation(len(calls))
            results[index] += [(i, getattr(fastctc, calls[i][0])(**calls[i][1])) for i in order]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive()
    assert sum(map(len, results)) == THREADS * 3 * len(calls)
    for per_thread in results:
        for i, result in per_thread:
            if calls[i][0] == "ctc_loss":
                result, expected_i = (result,), (expected[i],)
            else:
                expected_i = expected[i]
            for got, want in zip(result, expected_i):
                np.testing.assert_array_equal(got, want)


def test_other_python_threads_run_while_the_core_computes(rng: np.random.Generator) -> None:
    # A call of tens of milliseconds (10 ms at T=2000 on the Zen 5 machine: too few
    # ticks of a millisecond to tell).
    problem = random_problem(rng, frames=8000, batch=4, classes=200, max_label=100)
    call = (problem.inputs, problem.labels, problem.input_lengths)
    span: dict[str, float] = {}

    def worker() -> None:
        span["start"] = time.perf_counter()
        fastctc.ctc_loss_and_grad(*call, num_threads=1)
        span["end"] = time.perf_counter()

    thread = threading.Thread(target=worker)
    ticks = []
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())  # pure Python: runs only without the GIL held
        time.sleep(0.001)
    thread.join()
    during = [t for t in ticks if span["start"] < t < span["end"]]
    duration = span["end"] - span["start"]
    # Holding the GIL would leave at most a tick or two inside the call.
    assert len(during) > 10, f"{len(during)} ticks during a {duration:.3f} s call"


def test_absurd_thread_counts_do_not_kill_the_process() -> None:
    # libgomp cannot start 10**5 threads (here it died at about 3 x 10**4: exit or
    # SIGSEGV); the core starts at most 1024. A subprocess, so a regression fails
    # this test instead of killing the test run.
    script = """
        import numpy as np, fastctc
        batch = 100_000
        inputs = np.zeros((1, batch, 2), np.float32)
        labels = np.zeros((batch, 0), np.int64)
        wide = fastctc.workspace_size(inputs, labels, num_threads=batch)
        assert wide == fastctc.workspace_size(inputs, labels, num_threads=1024), wide
        loss = fastctc.ctc_loss(inputs, labels, num_threads=batch)
        assert np.all(loss == np.float32(np.log(2))), loss
        print("ok")
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr


def test_a_shared_sequence_runs_on_a_team_of_one_thread() -> None:
    # A call for two threads on one sequence shares it between them; inside a nested
    # parallel region, or with OMP_THREAD_LIMIT=1, OpenMP gives it a team of one, which
    # runs the shared parts in turn. The loss alone of this long sequence needs
    # certifying, for which a backward pass on another thread waits for the forward pass
    # to report its first inexact frame: on a team of one the forward pass must run
    # first, and nothing may wait for the other (an earlier version hung). A
    # subprocess, so that a hang fails this test by its timeout.
    script = """
        import numpy as np, fastctc
        rng = np.random.default_rng(3)
        logits = rng.standard_normal((3000, 1, 32)).astype(np.float32)
        labels = rng.integers(1, 32, size=(1, 600))
        alone = [fastctc.ctc_loss(logits, labels, num_threads=n)[0] for n in (1, 2, 3)]
        loss, _ = fastctc.ctc_loss_and_grad(logits, labels, num_threads=1)
        assert alone == [loss[0]] * 3, (alone, loss)
        print("ok")
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr


def test_ctrl_c_takes_effect_when_the_call_returns() -> None:
    # Promise (RELIABILITY.md): a SIGINT that arrives during native work neither kills
    # nor hangs the process; the call runs to its end and KeyboardInterrupt is raised
    # as it returns to Python; the process stays usable.
    script = """
        import time
        import numpy as np
        import fastctc

        # A zero-stride view: as many frames as a second of work takes, in no memory.
        row = np.random.default_rng(0).standard_normal((1, 1, 64)).astype(np.float32)

        def timed_call(frames):
            start = time.perf_counter()
            fastctc.ctc_loss(np.broadcast_to(row, (frames, 1, 64)), [[1, 2, 3]], num_threads=1)
            return time.perf_counter() - start

        frames = int(10**5 / min(timed_call(10**5), timed_call(10**5)))  # about 1 s
        uninterrupted = timed_call(frames)
        try:
            print("calling", flush=True)
            start = time.perf_counter()
            timed_call(frames)
            print("not interrupted")
        except KeyboardInterrupt:
            print(f"interrupted after {(time.perf_counter() - start) / uninterrupted:.2f} calls")
        print("then", fastctc.ctc_loss(np.zeros((2, 1, 3)), [[1]])[0])
    """
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "calling\n"
    time.sleep(0.1)  # inside the second call, which takes as long as the first
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    interrupted, then = stdout.splitlines()
    assert interrupted.startswith("interrupted after "), stdout
    # Cut short, the call would end about 0.1 s in, a small fraction of a call.
    assert float(interrupted.split()[2]) > 0.5, stdout
    assert then == f"then {fastctc.ctc_loss(np.zeros((2, 1, 3)), [[1]])[0]}"
