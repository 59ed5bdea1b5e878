"""``python -m fastctc align``: a transcript's token spans from a file of log-probs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fastctc
from fastctc.__main__ import main
from fastctc.align_command import load_alphabet, tokenize

ALPHABET = ["<b>", "h", "e", "l", "o", " ", "th"]


@pytest.fixture
def files(tmp_path: Path, rng: np.random.Generator) -> dict[str, str]:
    # Frames spelling "hello" with blanks (class 0), including one between the two l's.
    frames = [0, 1, 1, 2, 0, 3, 3, 0, 3, 4, 4, 0]
    logits = rng.standard_normal((len(frames), len(ALPHABET)))
    logits[np.arange(len(frames)), frames] += 5.0
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.save(tmp_path / "utterance.npy", log_probs)
    (tmp_path / "alphabet.txt").write_text("\n".join(ALPHABET) + "\n", encoding="utf-8")
    return {"inputs": str(tmp_path / "utterance.npy"), "alphabet": str(tmp_path / "alphabet.txt")}


def test_alphabets_and_tokens(files: dict[str, str]) -> None:
    assert load_alphabet(files["alphabet"]) == ALPHABET
    assert load_alphabet("_abc") == ["_", "a", "b", "c"]  # not a file: its characters
    assert tokenize("the hello", ALPHABET, blank=0) == [6, 2, 5, 1, 2, 3, 3, 4]
    with pytest.raises(ValueError, match=r"transcript\[2\] = 'x' is not spelled by any token"):
        tokenize("hex", ALPHABET, blank=0)


def test_prints_the_spans(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["align", files["inputs"], "--transcript", "hello", "--alphabet", files["alphabet"]]
    assert main([*argv, "--frame-duration", "0.02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("5 tokens over 12 frames; ln p(best path) = ")
    header, rows = lines[1].split(), [line.split() for line in lines[2:]]
    assert header == ["pos", "token", "start", "end", "frames", "score", "start_s", "end_s"]
    log_probs = np.load(files["inputs"])[:, None, :]
    spans = fastctc.forced_align(log_probs, [[1, 2, 3, 3, 4]], log_probs=True).spans[0]
    assert spans is not None
    assert [row[1] for row in rows] == ["h", "e", "l", "l", "o"]
    assert [int(row[2]) for row in rows] == spans.start.tolist() == [1, 3, 5, 8, 9]
    assert [int(row[3]) for row in rows] == spans.end.tolist()
    assert [float(row[6]) for row in rows] == pytest.approx(0.02 * spans.start)


def test_impossible_and_bad_arguments(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["align", files["inputs"], "--alphabet", files["alphabet"]]
    assert main([*argv, "--transcript", "hello hello"]) == 1
    assert "has no alignment to the 12 frames" in capsys.readouterr().err
    assert main([*argv, "--transcript", "hex"]) == 2
    assert "error: transcript[2] = 'x'" in capsys.readouterr().err
    assert main(["align", files["inputs"], "--alphabet", "_ab", "--transcript", "a"]) == 2
    assert "the alphabet has 3 tokens but" in capsys.readouterr().err


def test_plot(files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "alignment.png"
    argv = ["align", files["inputs"], "--transcript", "hello", "--alphabet", files["alphabet"]]
    assert main([*argv, "--plot", str(picture)]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {picture}" in capsys.readouterr().out
