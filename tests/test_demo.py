"""The main job, shortened: the toy recogniser learns with fastctc's loss and gradient."""

from __future__ import annotations

import io

from fastctc.__main__ import main
from fastctc.demo import run_demo


def test_demo_learns_to_read_held_out_digits() -> None:
    stream = io.StringIO()
    result = run_demo(epochs=4, train_size=1500, held_out_size=100, seed=1, stream=stream)
    losses, accuracy = result.epoch_losses, result.held_out_accuracy
    assert losses[-1] < losses[0] / 5  # the training loss falls
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    assert accuracy[-1] >= 0.7  # most held-out strings are decoded exactly
    assert accuracy[-1] > accuracy[0]
    text = stream.getvalue()
    assert "epoch  4/4" in text and "held-out exact" in text and "correctly" in text


def test_command_line_demo_runs(capsys) -> None:
    assert main(["demo", "--epochs", "2", "--train-size", "300"]) == 0
    assert "epoch  2/2" in capsys.readouterr().out
