"""CTC prefix beam search: exact on tiny problems, equal to the search written out in
Python on any problem, and its language-model hook."""

from __future__ import annotations

import numpy as np
import pytest
from beam_reference import prefix_beam_search
from brute_force import labelling_log_probs
from problems import random_problem

import fastctc
from fastctc import reference

# (frames, classes, blank): small enough to enumerate every path.
ENUMERABLE = [(1, 2, 0), (3, 3, 0), (4, 3, 2), (5, 3, 1), (4, 4, 0), (6, 2, 1)]


def _all_prefixes(frames: int, classes: int) -> int:
    return sum((classes - 1) ** k for k in range(frames + 1))


@pytest.mark.parametrize(("frames", "classes", "blank"), ENUMERABLE)
def test_wide_beam_finds_the_exact_most_probable_labellings(
    rng: np.random.Generator, frames: int, classes: int, blank: int
) -> None:
    inputs = rng.standard_normal((frames, 1, classes)) * 2.0
    exact = labelling_log_probs(reference.log_softmax(inputs[:, 0]), blank)
    ranked = sorted(exact.items(), key=lambda item: -item[1])
    width = _all_prefixes(frames, classes)  # nothing is ever pruned
    top = min(width, len(ranked))
    hypotheses = fastctc.beam_search(inputs, beam_width=width, top_paths=top, blank=blank)[0]
    assert len(hypotheses) == top
    for hypothesis, (labelling, log_prob) in zip(hypotheses, ranked):
        assert tuple(hypothesis.tokens) == labelling
        assert hypothesis.log_prob == pytest.approx(log_prob, rel=1e-12, abs=1e-12)
        assert hypothesis.score == hypothesis.log_prob


def test_worked_example_beats_best_path() -> None:
    # Graves' example (thesis, Fig. 7.5): the best path is "blank blank" (.42), but the
    # labelling "a" is more probable: .3 * .4 + .3 * .6 + .7 * .4 = .58.
    probs = np.array([[0.3, 0.7], [0.4, 0.6]])  # class 0 is "a", class 1 the blank
    inputs = np.log(probs)[:, None, :]
    best, second = fastctc.beam_search(inputs, beam_width=4, top_paths=2, blank=1, log_probs=True)[
        0
    ]
    assert best.tokens.tolist() == [0] and best.log_prob == pytest.approx(np.log(0.58), rel=1e-15)
    assert second.tokens.tolist() == [] and second.log_prob == pytest.approx(
        np.log(0.42), rel=1e-15
    )
    assert fastctc.greedy_decode(inputs, blank=1, log_probs=True)[0].tokens.tolist() == []


@pytest.mark.parametrize("beam_width", [1, 2, 3, 8])
@pytest.mark.parametrize("prune_logp", [None, -2.0])
def test_equals_the_search_written_out(
    rng: np.random.Generator, beam_width: int, prune_logp: float | None
) -> None:
    problem = random_problem(rng, frames=12, batch=6, classes=5, max_label=0, blank=2)
    top = min(beam_width, 3)
    results = fastctc.beam_search(
        problem.inputs,
        problem.input_lengths,
        beam_width=beam_width,
        top_paths=top,
        blank=2,
        prune_logp=prune_logp,
    )
    for n, hypotheses in enumerate(results):
        log_y = reference.log_softmax(problem.inputs[: problem.input_lengths[n], n])
        expected = prefix_beam_search(log_y, beam_width, 2, prune_logp=prune_logp)[:top]
        assert len(hypotheses) == len(expected)
        for hypothesis, (tokens, frames, log_prob, _) in zip(hypotheses, expected):
            assert tuple(hypothesis.tokens) == tokens
            assert hypothesis.frames.tolist() == frames
            assert hypothesis.log_prob == pytest.approx(log_prob, rel=1e-12)


def test_pruning_keeps_only_likely_classes(rng: np.random.Generator) -> None:
    log_y = reference.log_softmax(rng.standard_normal((20, 1, 6)) * 3)
    (best,) = fastctc.beam_search(log_y, log_probs=True, prune_logp=np.log(0.3))[0]
    frames_of = best.frames
    assert np.all(log_y[frames_of, 0, best.tokens] >= np.log(0.3))
    unpruned = fastctc.beam_search(log_y, log_probs=True, prune_logp=-np.inf)[0][0]
    reference_best = fastctc.beam_search(log_y, log_probs=True)[0][0]
    assert unpruned.tokens.tolist() == reference_best.tokens.tolist()


def test_edge_cases() -> None:
    inputs = np.zeros((3, 4, 3))
    inputs[1, 2, 0] = np.nan
    log_y = np.log(np.full((3, 4, 3), 1 / 3))
    log_y[:, 3, :] = -np.inf  # nothing has nonzero probability
    empty, one_frame, with_nan, _ = fastctc.beam_search(inputs, [0, 1, 3, 3], top_paths=3)
    assert len(empty) == 1 and empty[0].tokens.size == 0 and empty[0].log_prob == 0.0
    # One frame, three classes, blank 0: "", "1", "2", each with probability 1/3.
    assert [h.tokens.tolist() for h in one_frame] == [[], [1], [2]]
    np.testing.assert_allclose([h.log_prob for h in one_frame], np.log(1 / 3), rtol=1e-15)
    assert with_nan == []
    assert fastctc.beam_search(log_y, log_probs=True)[3] == []
    assert fastctc.beam_search(np.zeros((2, 0, 3))) == []


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_layouts_strides_threads_and_dtypes(rng: np.random.Generator, dtype: type) -> None:
    problem = random_problem(rng, frames=40, batch=13, classes=7, max_label=0, dtype=dtype)
    args = {"input_lengths": problem.input_lengths, "beam_width": 6, "top_paths": 4}
    expected = fastctc.beam_search(problem.inputs, num_threads=1, **args)
    variants = [
        fastctc.beam_search(problem.inputs.transpose(1, 0, 2), layout="NTC", **args),
        fastctc.beam_search(np.asfortranarray(problem.inputs), num_threads=4, **args),
        fastctc.beam_search(problem.inputs, num_threads=None, **args),
    ]
    for result in variants:
        for got, want in zip(result, expected):
            assert [h.tokens.tolist() for h in got] == [h.tokens.tolist() for h in want]
            assert [h.frames.tolist() for h in got] == [h.frames.tolist() for h in want]
            assert [h.log_prob for h in got] == [h.log_prob for h in want]
    wide = fastctc.beam_search(problem.inputs.astype(np.float64), **args)
    for got, want in zip(expected, wide):
        np.testing.assert_allclose([h.log_prob for h in got], [h.log_prob for h in want], rtol=1e-5)


# --- the language-model hook ----------------------------------------------------------


class BigramModel:
    """A toy language model: ln P(k | previous token) from a fixed table, with the
    blank's column scoring the end of the sequence. Counts its calls."""

    def __init__(self, rng: np.random.Generator, classes: int) -> None:
        table = rng.random((classes + 1, classes)) + 0.1  # row `classes`: the start
        self.table = np.log(table / table.sum(axis=1, keepdims=True))
        self.start = classes
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, prefix: tuple[int, ...]) -> np.ndarray:
        self.calls.append(prefix)
        return self.table[prefix[-1] if prefix else self.start]


@pytest.mark.parametrize(("weight", "bonus"), [(0.5, 0.0), (1.0, 1.5), (2.0, -0.5)])
@pytest.mark.parametrize("beam_width", [1, 4])
def test_scorer_equals_the_search_written_out(
    rng: np.random.Generator, weight: float, bonus: float, beam_width: int
) -> None:
    problem = random_problem(rng, frames=10, batch=4, classes=5, max_label=0)
    model = BigramModel(rng, 5)
    scorer = fastctc.Scorer(model, weight=weight, insertion_bonus=bonus)
    results = fastctc.beam_search(
        problem.inputs, problem.input_lengths, beam_width=beam_width, top_paths=1, scorer=scorer
    )
    for n, (hypothesis,) in enumerate(results):
        log_y = reference.log_softmax(problem.inputs[: problem.input_lengths[n], n])
        tokens, frames, log_prob, score = prefix_beam_search(
            log_y, beam_width, 0, score=model, weight=weight, bonus=bonus
        )[0]
        assert tuple(hypothesis.tokens) == tokens and hypothesis.frames.tolist() == frames
        assert hypothesis.log_prob == pytest.approx(log_prob, rel=1e-12)
        assert hypothesis.score == pytest.approx(score, rel=1e-12)
        # The score is the log-probability plus the model's terms along the tokens.
        prefixes = [tokens[:i] for i in range(len(tokens))]
        lm = sum(model.table[p[-1] if p else 5][k] for p, k in zip(prefixes, tokens))
        end = model.table[tokens[-1] if tokens else 5][0]
        expected = log_prob + weight * (lm + end) + bonus * len(tokens)
        assert hypothesis.score == pytest.approx(expected, rel=1e-12)


def test_scorer_is_called_once_per_prefix_entering_the_beam(rng: np.random.Generator) -> None:
    model = BigramModel(rng, 4)
    fastctc.beam_search(rng.standard_normal((15, 1, 4)), beam_width=3, scorer=model)
    assert model.calls[0] == ()
    assert len(model.calls) == len(set(model.calls))  # never twice while it stays in the beam
    assert all(isinstance(token, int) for prefix in model.calls for token in prefix)


def test_a_forbidden_token_never_appears(rng: np.random.Generator) -> None:
    inputs = rng.standard_normal((30, 3, 5))
    inputs[:, :, 3] += 2.0  # class 3 is likely
    assert any(3 in h[0].tokens for h in fastctc.beam_search(inputs, beam_width=8))

    def no_threes(prefix: tuple[int, ...]) -> np.ndarray:
        scores = np.zeros(5)
        scores[3] = -np.inf
        return scores

    for (hypothesis,) in fastctc.beam_search(inputs, beam_width=8, scorer=no_threes):
        assert 3 not in hypothesis.tokens


def test_scorer_weight_zero_changes_nothing_but_the_bonus(rng: np.random.Generator) -> None:
    inputs = rng.standard_normal((20, 2, 5))
    plain = fastctc.beam_search(inputs, beam_width=5, top_paths=3)
    model = BigramModel(rng, 5)
    silent = fastctc.beam_search(
        inputs, beam_width=5, top_paths=3, scorer=fastctc.Scorer(model, weight=0.0)
    )
    for got, want in zip(silent, plain):
        assert [h.tokens.tolist() for h in got] == [h.tokens.tolist() for h in want]
        assert [h.score for h in got] == [h.log_prob for h in want]
    eager = fastctc.beam_search(
        inputs, beam_width=5, scorer=fastctc.Scorer(model, weight=0.0, insertion_bonus=5.0)
    )
    for (long,), (short, *_) in zip(eager, plain):
        assert len(long.tokens) > len(short.tokens)


def test_scorer_threads_are_deterministic(rng: np.random.Generator) -> None:
    inputs = rng.standard_normal((25, 9, 6))
    scorer = fastctc.Scorer(BigramModel(rng, 6), weight=0.7, insertion_bonus=0.2)
    first = fastctc.beam_search(inputs, beam_width=4, top_paths=2, scorer=scorer, num_threads=1)
    again = fastctc.beam_search(inputs, beam_width=4, top_paths=2, scorer=scorer, num_threads=3)
    for got, want in zip(again, first):
        assert [(h.tokens.tolist(), h.score) for h in got] == [
            (h.tokens.tolist(), h.score) for h in want
        ]


@pytest.mark.parametrize("num_threads", [1, 3])
def test_scorer_errors_propagate(rng: np.random.Generator, num_threads: int) -> None:
    class Boom(RuntimeError):
        pass

    def failing(prefix: tuple[int, ...]) -> np.ndarray:
        if len(prefix) >= 2:
            raise Boom(f"no model for {prefix}")
        return np.zeros(4)

    inputs = rng.standard_normal((20, 5, 4))
    with pytest.raises(Boom, match="no model for"):
        fastctc.beam_search(inputs, scorer=failing, num_threads=num_threads)


@pytest.mark.parametrize(
    ("returned", "pattern"),
    [
        (np.zeros(3), r"return C=4 log-scores for prefix \(\), but got shape \(3,\)"),
        (np.zeros((1, 4)), r"but got shape \(1, 4\)"),
        (np.array([0.0, np.nan, 0.0, 0.0]), r"scorer\(\(\)\)\[1\] = nan; scores must be finite"),
        (np.array([0.0, 0.0, np.inf, 0.0]), r"scorer\(\(\)\)\[2\] = inf"),
    ],
    ids=["short", "2-D", "nan", "inf"],
)
def test_bad_scorer_output_raises(returned: np.ndarray, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        fastctc.beam_search(np.zeros((3, 1, 4)), scorer=lambda prefix: returned)
