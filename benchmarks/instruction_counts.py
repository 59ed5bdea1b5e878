"""Instructions a call executes in the core, counted by callgrind: for comparing two builds.

    python benchmarks/instruction_counts.py
    python benchmarks/instruction_counts.py 800,16,32,150 150,32,28,40::loss

Arguments as for core_timing.py, except that every call runs on one thread (so the
count does not depend on the schedule; a thread count given is ignored). With none,
the benchmark's default shapes and its two extra ones, each with the gradient and
alone: the set that a change of the core should be counted on, not only the shapes it
was made for (BENCHMARKS.md, sixteenth session: a change counted on short sequences
only had made long ones take 1.4 times the instructions).

Each case runs in a Python of its own under `valgrind --tool=callgrind`, counting only
inside the core's loss calls (`fastctc_ctc_loss_f32` and `_f64`); the thread's
workspace is sized beforehand, so the count is of two calls that run, and half of it
is printed. Counts, unlike times, come out the same run after run, so they show a
change of a percent that the shared machines' noise hides; they miss what costs time
without instructions (cache misses, memory traffic), which only times show. Needs
valgrind (`apt install valgrind`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from core_timing import case

from fastctc import _api

DEFAULT_SPECS = [
    f"{shape}{options}"
    for shape in (
        "150,32,28,40",
        "150,32,5000,20",
        "800,16,32,150,var",
        "250,32,1024,60,var",
        "5000,1,32,1000",
        "50,400,30,10,var",
    )
    for options in ("", "::loss")
]
CALLS = 2


def one_thread(spec: str) -> str:
    text, *options = spec.split(":")
    return ":".join([text, "1", *options[1:]])


def run_calls(spec: str) -> None:
    """The child's part: the case's call, CALLS times, its workspace sized first; prints
    the case's label."""
    c = case(one_thread(spec))
    print(c.label)
    problem = _api._prepare(c.logits, c.labels, *c.lengths, 0, "TNC", c.threads)
    _api._thread_workspace(_api._workspace_bytes(problem, not c.loss_only))
    for _ in range(CALLS):
        c.call()


def count(spec: str) -> tuple[str, float]:
    """spec's case's label, and the instructions a call of it executes in the core."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        child = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                "--toggle-collect=fastctc_ctc_loss_f*",
                sys.executable,
                __file__,
                "--child",
                spec,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise RuntimeError(f"no instruction count in callgrind's output for {spec}")
        return child.stdout.strip(), int(totals.group(1)) / CALLS


def main(specs: list[str]) -> None:
    for spec in specs or DEFAULT_SPECS:
        label, instructions = count(spec)
        print(f"{label}: {instructions / 1e6:.2f} M instructions a call")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        run_calls(sys.argv[2])
    else:
        main(sys.argv[1:])
