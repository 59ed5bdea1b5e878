"""Every instruction-set level of the kernels this machine can run gives the right answers.

The kernels are compiled once per level (baseline, AVX2+FMA, AVX-512) and the widest the
CPU has is chosen once per process, so each level runs in its own interpreter, with
FASTCTC_SIMD naming it (cpp/src/dispatch.cpp). Each must agree with the float64 oracle on
hard cases (which take the log-space fallback) as well as ordinary ones, and the levels
must agree with each other to rounding: their vector widths differ, their sums' order
does not (cpp/src/lane_sum.hpp); AVX2 and AVX-512, both with fused multiply-adds, give
the same bits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastctc import _ctc, reference
from fastctc.testing import HARD_CASES, random_ctc_problem

LEVELS = ["baseline", "avx2", "avx512"]
# Each case's arguments of random_ctc_problem (besides the seed); "many short" puts
# sixteen of its sequences in groups of eight on two threads (grouped_lattice.hpp).
CASE_ARGS: dict[str, dict] = {
    "ordinary": {},
    **{name: HARD_CASES[name] for name in ("repeats", "peaked", "long")},
    "many short": {"batch": 24},
}
CASES = list(CASE_ARGS)

# Run in the child: the level it got, and each case's float64 loss and gradient.
CHILD = """
import json
import sys
import numpy as np
import fastctc
from fastctc import _ctc
from fastctc.testing import random_ctc_problem
for name, kwargs in json.loads(sys.argv[2]).items():
    problem = random_ctc_problem(7, **kwargs)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    loss, grad = fastctc.ctc_loss_and_grad(*args, blank=problem.blank)
    alone = fastctc.ctc_loss(*args, blank=problem.blank)
    np.savez(f"{sys.argv[1]}/{name}.npz", loss=loss, grad=grad, alone=alone)
print(_ctc.simd_level())
"""


def _run_level(level: str, directory: Path) -> str:
    """Runs CHILD with FASTCTC_SIMD=level; returns the level the kernels report."""
    directory.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(directory), json.dumps(CASE_ARGS)],
        env={**os.environ, "FASTCTC_SIMD": level},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each level this machine runs: the directory of its results."""
    ran: dict[str, Path] = {}
    for level in LEVELS:
        directory = tmp_path_factory.mktemp("simd") / level
        got = _run_level(level, directory)
        # A level the CPU (or this build) lacks falls back to the widest one below it.
        assert got in LEVELS[: LEVELS.index(level) + 1], json.dumps([level, got])
        if got == level:
            ran[level] = directory
    assert "baseline" in ran
    return ran


@pytest.mark.parametrize("case", CASES)
def test_every_level_agrees_with_the_reference(results: dict[str, Path], case: str) -> None:
    problem = random_ctc_problem(7, **CASE_ARGS[case])
    expected_loss, expected_grad = reference.ctc_loss_and_grad(
        problem.inputs, problem.labels, problem.input_lengths, blank=problem.blank
    )
    for level, directory in results.items():
        got = np.load(directory / f"{case}.npz")
        np.testing.assert_allclose(got["loss"], expected_loss, rtol=1e-12, err_msg=level)
        np.testing.assert_allclose(got["alone"], expected_loss, rtol=1e-12, err_msg=level)
        np.testing.assert_allclose(got["grad"], expected_grad, atol=1e-12, err_msg=level)


@pytest.mark.parametrize("case", CASES)
def test_the_levels_agree_with_each_other_to_rounding(results: dict[str, Path], case: str) -> None:
    baseline = np.load(results["baseline"] / f"{case}.npz")
    for level, directory in results.items():
        got = np.load(directory / f"{case}.npz")
        for name in ("loss", "alone", "grad"):
            np.testing.assert_allclose(
                got[name], baseline[name], rtol=1e-14, atol=1e-15, err_msg=f"{level} {name}"
            )


@pytest.mark.parametrize("case", CASES)
def test_avx2_and_avx512_give_the_same_bits(results: dict[str, Path], case: str) -> None:
    # Both levels have fused multiply-adds and run the same operations in the same
    # order, whatever their vector width: the same bits. So a batch may run on either,
    # and left to choose, one whose frames are not long rows of exponentials runs on
    # AVX2 (cpp/src/dispatch.cpp).
    if not {"avx2", "avx512"} <= results.keys():
        pytest.skip("this machine does not run AVX-512")
    avx2 = np.load(results["avx2"] / f"{case}.npz")
    avx512 = np.load(results["avx512"] / f"{case}.npz")
    for name in ("loss", "alone", "grad"):
        np.testing.assert_array_equal(avx512[name], avx2[name], err_msg=name)


def test_this_process_runs_the_widest_level(results: dict[str, Path]) -> None:
    if "FASTCTC_SIMD" in os.environ:
        pytest.skip("FASTCTC_SIMD is set")
    assert _ctc.simd_level() == max(results, key=LEVELS.index)
