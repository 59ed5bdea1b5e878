"""The beam-search benchmark runs and compares with the peers it finds (no speed asserted)."""

from __future__ import annotations

import importlib.util
import io

from fastctc.__main__ import main
from fastctc.bench.decode import bench_decode, make_inputs


def test_inputs_are_seeded_and_confident() -> None:
    logits, lengths = make_inputs(frames=30, batch=4, classes=6, seed=3)
    again, _ = make_inputs(frames=30, batch=4, classes=6, seed=3)
    assert logits.shape == (30, 4, 6) and (logits == again).all()
    assert ((lengths >= 22) & (lengths <= 30)).all()
    others_mean = (logits.sum(axis=2) - logits.max(axis=2)) / 5
    margin = logits.max(axis=2) - others_mean
    assert margin.mean() > 2.0  # one class stands out on most frames


def test_bench_decode_table() -> None:
    stream = io.StringIO()
    timings = bench_decode(frames=20, batch=3, classes=5, beam_width=4, repeats=1, stream=stream)
    assert timings[0].decoder.startswith("fastctc") and timings[0].ratio == 1.0
    assert timings[0].agree == 3
    peers = [t.decoder.split()[0] for t in timings[1:]]
    for package in ("tensorflow", "pyctcdecode"):
        assert (package in peers) == (importlib.util.find_spec(package) is not None)
    text = stream.getvalue()
    assert "T=20 N=3 C=5 beam_width=4 threads=1" in text
    assert all(t.decoder in text for t in timings)


def test_command_line(capsys) -> None:
    argv = ["bench-decode", "--frames", "10", "--batch", "2", "--classes", "4", "--repeats", "1"]
    assert main(argv) == 0
    assert "fastctc" in capsys.readouterr().out
