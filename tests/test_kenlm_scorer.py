"""The KenLM scorer, on a tiny ARPA model written here, where kenlm is installed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import fastctc

kenlm = pytest.importorskip("kenlm")

# log10 probabilities and back-off weights of a two-word bigram model.
ARPA = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t</s>
-99\t<s>\t-0.5
-0.5\ta\t-0.3
-0.7\tb\t-0.2
-1.5\t<unk>

\\2-grams:
-0.2\t<s> a
-0.4\ta b
-0.1\tb </s>

\\end\\
"""
LN10 = math.log(10.0)


@pytest.fixture
def arpa(tmp_path: Path) -> str:
    path = tmp_path / "tiny.arpa"
    path.write_text(ARPA)
    return str(path)


def test_word_level_scores(arpa: str) -> None:
    # Classes: 0 blank, 1 "a", 2 "b"; every class is a word.
    scorer = fastctc.KenLMScorer(arpa, ["<blank>", "a", "b"])
    # After <s>: P(a) from the bigram; P(b) and P(</s>) back off: bo(<s>) + P(w).
    np.testing.assert_allclose(
        scorer(()), np.array([-0.5 - 1.0, -0.2, -0.5 - 0.7]) * LN10, rtol=1e-6
    )
    # After "a": P(a|a) and P(</s>|a) back off through bo(a) = -0.3; P(b|a) is a bigram.
    np.testing.assert_allclose(
        scorer((1,)), np.array([-0.3 - 1.0, -0.3 - 0.5, -0.4]) * LN10, rtol=1e-6
    )


def test_character_level_scores(arpa: str) -> None:
    # Classes: 0 blank, 1 "a", 2 "b", 3 " "; words end at the space.
    scorer = fastctc.KenLMScorer(arpa, ["_", "a", "b", " "], word_delimiter=" ")
    a = scorer((1,))  # "a": the space would complete the word "a"
    np.testing.assert_allclose(a[[1, 2, 3]], [0.0, 0.0, -0.2 * LN10], rtol=1e-6)
    # Ending after "a": the word "a" and then </s> after it (backing off from "a").
    assert a[0] == pytest.approx((-0.2 - 0.3 - 1.0) * LN10, rel=1e-6)
    a_b = scorer((1, 3, 2))  # "a b"
    np.testing.assert_allclose(a_b[3], -0.4 * LN10, rtol=1e-6)
    assert a_b[0] == pytest.approx((-0.4 - 0.1) * LN10, rel=1e-6)
    assert scorer((1, 3))[3] == 0.0  # a second space completes no word
    with pytest.raises(ValueError, match=r"word_delimiter '\|' is not one of the tokens"):
        fastctc.KenLMScorer(arpa, ["_", "a"], word_delimiter="|")


def test_the_model_changes_the_decoding(arpa: str) -> None:
    # The acoustics slightly prefer "a" at the one frame with a word; the model prefers
    # the sentence "b": P(b | <s>) P(</s> | b) = 10^(-1.2 - 0.1) over 10^(-0.2 - 1.3).
    probs = np.array([[0.1, 0.46, 0.44]])
    inputs = np.log(probs)[:, None, :]
    (plain,) = fastctc.beam_search(inputs, log_probs=True)[0]
    assert plain.tokens.tolist() == [1]
    scorer = fastctc.Scorer(fastctc.KenLMScorer(arpa, ["<blank>", "a", "b"]), weight=1.0)
    (guided,) = fastctc.beam_search(inputs, log_probs=True, scorer=scorer)[0]
    assert guided.tokens.tolist() == [2]
    assert guided.log_prob == pytest.approx(np.log(0.44), rel=1e-12)
    lm = (-0.5 - 0.7 - 0.1) * LN10  # P(b | <s>) by back-off, then P(</s> | b)
    assert guided.score == pytest.approx(np.log(0.44) + lm, rel=1e-6)
