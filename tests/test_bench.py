"""python -m fastctc bench: runs, checks every implementation, reports (timings unasserted)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import fastctc
from fastctc.__main__ import main
from fastctc.bench import measure
from fastctc.bench.problems import Shape, make_problem


def test_bench_reports_every_installed_implementation(tmp_path, capsys) -> None:
    path = tmp_path / "bench.json"
    assert (
        main(
            ["bench", "--shapes", "30,3,6,5", "12,2,4,3,var", "--threads", "1", "--json", str(path)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "T=30 N=3 C=6 L=5" in out and "T=12 N=2 C=4 L=3 var" in out
    reports = json.loads(path.read_text())
    assert [r["shape"] for r in reports] == ["T=30 N=3 C=6 L=5", "T=12 N=2 C=4 L=3 var"]
    for report in reports:
        assert report["floor_ms"] > 0
        first = report["rows"][0]
        assert first["implementation"].startswith("fastctc")
        assert first["vs_fastctc"] == 1.0
        assert first["loss_error"] < 1e-6  # float32 against float64
        assert first["grad_error"] < 1e-6
        for row in report["rows"]:  # every peer computes the same loss and gradient
            assert row["loss_error"] < 1e-4
            assert row["grad_error"] < 1e-3


def test_bench_reports_thread_scaling_with_more_than_one_thread(tmp_path, capsys) -> None:
    path = tmp_path / "bench.json"
    command = ["bench", "--shapes", "20,4,5,4", "--skip", "torch", "tensorflow", "jax"]
    assert main([*command, "--threads", "2", "--json", str(path)]) == 0
    scaling = json.loads(path.read_text())[0]["scaling"]
    assert scaling["threads"] == 2
    assert scaling["one_thread_ms"] > 0 and scaling["threads_ms"] > 0
    assert scaling["speedup"] == pytest.approx(scaling["one_thread_ms"] / scaling["threads_ms"])
    assert scaling["floor_speedup"] > 0
    printed = capsys.readouterr().out
    assert "fastctc on 1 and 2 threads" in printed and "the floor's copy" in printed
    assert main([*command, "--threads", "1", "--json", str(path)]) == 0
    assert json.loads(path.read_text())[0]["scaling"] is None


def test_interleaved_timing_alternates_blocks_and_keeps_the_best_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake clock in units of 1/1024 s (exact in binary): run "a" takes 1 unit a
    # call, "b" 4, except in its first three rounds (a disturbed stretch), 10; blocks
    # of 20 units are 20 calls of a and 5 of b.
    unit = 1 / 1024
    now = [0.0]
    calls: list[str] = []

    def run(name: str) -> None:
        calls.append(name)
        b_round = (calls.count("b") - 2) // 5  # the first call of b is the warm-up
        now[0] += unit * (1 if name == "a" else 10 if 0 <= b_round < 3 else 4)

    monkeypatch.setattr(measure.time, "perf_counter", lambda: now[0])
    best = measure.interleaved_best_seconds(
        [lambda: run("a"), lambda: run("b")], rounds=4, block_seconds=20 * unit
    )
    assert calls[:2] == ["a", "b"]  # the warm-up calls
    assert calls[2:] == (["a"] * 20 + ["b"] * 5) * 4
    assert best == [unit, 4 * unit]  # the median of b's rounds would be 10 units


def test_bench_loss_only_has_no_gradient(tmp_path) -> None:
    path = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--shapes",
                "20,2,5,4",
                "--loss-only",
                "--dtype",
                "float64",
                "--threads",
                "1",
                "--json",
                str(path),
            ]
        )
        == 0
    )
    rows = json.loads(path.read_text())[0]["rows"]
    assert all(row["grad_error"] is None for row in rows)
    assert rows[0]["loss_error"] < 1e-12


def test_bench_skips_the_peers_it_is_told_to(tmp_path, capsys) -> None:
    # Every framework peer is left out (whichever are installed); fastctc never is.
    path = tmp_path / "bench.json"
    command = ["bench", "--shapes", "20,2,5,4", "--threads", "1", "--json", str(path)]
    assert main([*command, "--skip", "torch", "TENSORFLOW", "jax", "fastctc"]) == 0
    assert [row["implementation"] for row in json.loads(path.read_text())[0]["rows"]] == [
        f"fastctc {fastctc.__version__}"
    ]
    out = capsys.readouterr().out
    installed = [name for name in ("torch", "tensorflow", "jax") if importlib.util.find_spec(name)]
    assert ("left out (--skip)" in out) == bool(installed)


def test_problems_are_seeded_and_alignable() -> None:
    shape = Shape.parse("40,8,5,30,var")
    first, again = make_problem(shape, np.float32, 3), make_problem(shape, np.float32, 3)
    np.testing.assert_array_equal(first.logits, again.logits)
    losses = fastctc.ctc_loss(first.logits, first.labels, first.input_lengths, first.label_lengths)
    assert np.all(np.isfinite(losses))  # no label needs more frames than its input has


@pytest.mark.parametrize("text", ["1,2,3", "10,2,3,4,fixed", "0,2,3,4", "10,2,1,4", "a,b,c,d"])
def test_bad_shapes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shape"):
        Shape.parse(text)


@pytest.mark.parametrize(
    ("seconds_per_call", "warm_up", "expected_calls"),
    [
        (0.001, True, 1 + 300),  # fast: min_seconds=0.3 needs 300 calls (max_runs 1000)
        (0.2, True, 1 + 5),  # min_runs
        (0.2, False, 5),  # the caller made the warm-up call
        (8.0, True, 1 + 3),  # slow: stops once 20 s have passed (8 + 8 + 8 > 20)
        (60.0, False, 1),  # one timed call at least
    ],
)
def test_median_seconds_bounds_its_calls(
    monkeypatch: pytest.MonkeyPatch, seconds_per_call: float, warm_up: bool, expected_calls: int
) -> None:
    # A fake clock that each call advances: the count of calls, not the speed, is tested.
    now = [0.0]
    calls = []

    def run() -> None:
        calls.append(None)
        now[0] += seconds_per_call

    monkeypatch.setattr(measure.time, "perf_counter", lambda: now[0])
    median = measure.median_seconds(run, warm_up=warm_up, max_runs=1000)
    assert len(calls) == expected_calls
    assert median == pytest.approx(seconds_per_call)
