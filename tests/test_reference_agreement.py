"""The native core against fastctc.reference on random batches, in every input form."""

from __future__ import annotations

import numpy as np
import pytest
from problems import Problem, random_problem

import fastctc
from fastctc import reference

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
LAYOUTS = ["TNC", "NTC"]
LABEL_FORMS = ["padded", "concatenated", "list"]
BLANKS = [
    pytest.param(0, id="blank-first"),
    pytest.param(-1, id="blank-last"),
    pytest.param(3, id="blank-middle"),
]
# float64 agrees with the float64 reference to ~1e-12; float32 to its own precision.
TOLERANCES = {np.float64: {"rtol": 1e-12, "atol": 1e-12}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}


def _label_arguments(problem: Problem, form: str) -> tuple[object, object]:
    if form == "padded":
        return problem.padded_labels(pad=-1), problem.label_lengths
    if form == "concatenated":
        return problem.concatenated_labels(), problem.label_lengths
    return problem.labels, None


def _in_layout(tnc: np.ndarray, layout: str) -> np.ndarray:
    # NTC data laid out batch-major in memory, as a framework would hand it over.
    return tnc if layout == "TNC" else np.ascontiguousarray(tnc.transpose(1, 0, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("label_form", LABEL_FORMS)
@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
def test_matches_reference(
    rng: np.random.Generator, dtype: type, layout: str, label_form: str, blank: int, log_probs: bool
) -> None:
    problem = random_problem(
        rng, frames=30, batch=6, classes=7, max_label=10, blank=blank, dtype=dtype
    )
    inputs = problem.inputs
    if log_probs:  # normalised log-probabilities, as a framework's log_softmax gives
        inputs = reference.log_softmax(inputs).astype(dtype)
    labels, label_lengths = _label_arguments(problem, label_form)
    loss, grad = fastctc.ctc_loss_and_grad(
        _in_layout(inputs, layout),
        labels,
        problem.input_lengths,
        label_lengths,
        blank=blank,
        layout=layout,
        log_probs=log_probs,
    )
    expected_loss, expected_grad = reference.ctc_loss_and_grad(
        inputs, problem.labels, problem.input_lengths, blank=blank, log_probs=log_probs
    )
    assert loss.dtype == dtype and grad.dtype == dtype
    assert grad.shape == _in_layout(inputs, layout).shape
    np.testing.assert_allclose(loss, expected_loss, **TOLERANCES[dtype])
    grad_tnc = grad if layout == "TNC" else grad.transpose(1, 0, 2)
    np.testing.assert_allclose(grad_tnc, expected_grad, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_only_equals_loss_of_loss_and_grad(rng: np.random.Generator, dtype: type) -> None:
    problem = random_problem(rng, frames=40, batch=5, classes=6, max_label=12, dtype=dtype)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    # On ordinary inputs both take the same number system and agree bit for bit; where
    # they are certified differently they agree to rounding
    # (tests/test_fuzz_regressions.py).
    loss_only = fastctc.ctc_loss(*args)
    loss, _ = fastctc.ctc_loss_and_grad(*args)
    np.testing.assert_array_equal(loss_only, loss)


def test_unnormalised_log_scores_used_as_given(rng: np.random.Generator) -> None:
    # Log-scores that are not normalised (e.g. label priors subtracted) are legal:
    # nothing renormalises them, and the loss may be negative.
    problem = random_problem(rng, frames=12, batch=3, classes=5, max_label=3)
    scores = problem.inputs + 4.0  # every frame's total probability mass is > 1
    loss, grad = fastctc.ctc_loss_and_grad(
        scores, problem.labels, problem.input_lengths, log_probs=True
    )
    expected_loss, expected_grad = reference.ctc_loss_and_grad(
        scores, problem.labels, problem.input_lengths, log_probs=True
    )
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
    assert np.any(loss < 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_single_and_batched_agree(rng: np.random.Generator, dtype: type) -> None:
    problem = random_problem(rng, frames=25, batch=4, classes=6, max_label=8, dtype=dtype)
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    for n in range(4):
        frames = problem.input_lengths[n]
        single_loss, single_grad = fastctc.ctc_loss_and_grad(
            problem.inputs[:frames, n : n + 1], [problem.labels[n]]
        )
        assert single_loss[0] == loss[n]  # bit-identical: the same kernel on the same data
        np.testing.assert_array_equal(single_grad[:, 0], grad[:frames, n])


def _label_of_many_repeats(rng: np.random.Generator) -> np.ndarray:
    """60 positions over 26 classes: class 1 fifteen times (three of them side by
    side), classes 2-21 twice, 22-26 once, shuffled: many repeated classes, each
    gradient entry a sum over several label positions (LabelSlots in
    cpp/src/class_slots.hpp)."""
    label = np.concatenate([np.full(12, 1), np.repeat(np.arange(2, 22), 2), np.arange(22, 27)])
    label = rng.permutation(label)
    return np.concatenate([label[:20], [1, 1, 1], label[20:]]).astype(np.int32)


@pytest.mark.parametrize(
    ("batch", "threads"),
    # One sequence, on one thread and shared by two; two sequences on two threads
    # (each alone); eight, four at a time (grouped_lattice.hpp).
    [(1, 1), (1, 2), (2, 2), (8, 1), (8, 2)],
)
def test_labels_of_many_repeated_classes_match_reference(
    rng: np.random.Generator, batch: int, threads: int
) -> None:
    logits = rng.standard_normal((150, batch, 40))
    labels = np.stack([_label_of_many_repeats(rng) for _ in range(batch)])
    expected_loss, expected_grad = reference.ctc_loss_and_grad(logits, labels)
    loss, grad = fastctc.ctc_loss_and_grad(logits, labels, num_threads=threads)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)
    # The posteriors gather the same occupancies: softmax minus the gradient.
    expected_classes = np.exp(reference.log_softmax(logits)) - expected_grad
    posteriors = fastctc.ctc_posteriors(logits, labels, num_threads=threads)
    np.testing.assert_allclose(posteriors.classes, expected_classes, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "label_length",
    # With 106 classes, a label of 2 has frames read through a table of the classes'
    # exponentials (C <= 2 |l| + 102: uses_class_table() in cpp/src/scratch.hpp), a
    # label of 1 through one per label position.
    [pytest.param(1, id="per-label-position"), pytest.param(2, id="class-table")],
)
@pytest.mark.parametrize("far_class", [False, True], ids=["ordinary", "far-class"])
def test_both_ways_of_reading_frames_match_reference(
    rng: np.random.Generator, label_length: int, far_class: bool
) -> None:
    frames, classes = 20, 106
    logits = rng.standard_normal((frames, 3, classes))
    labels = rng.integers(1, classes - 1, size=(3, label_length))  # never the last class
    if far_class:  # the last class 800 above the label's: their exponentials underflow there
        logits[5:8, :, classes - 1] = 800.0
    loss, grad = fastctc.ctc_loss_and_grad(logits, labels)
    expected_loss, expected_grad = reference.ctc_loss_and_grad(logits, labels)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fastctc.ctc_loss(logits, labels), loss, rtol=1e-13)
    if far_class:
        assert np.all(loss > 2000)  # three frames of e^-800 each


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("class_order", ["contiguous", "reversed"])
def test_class_table_at_every_alphabet_size(
    rng: np.random.Generator, dtype: type, class_order: str
) -> None:
    # Rows of classes are read in whole chunks of eight, the last moved back to overlap
    # the one before (cpp/src/chunked_loop.hpp): each size up to five chunks, with the
    # row's largest and smallest anywhere in it, through the class table (labels long
    # enough for uses_class_table()), contiguous and with a negative class stride.
    for classes in range(2, 41):
        label_length = max(1, (classes - 1) // 3)
        logits = (3.0 * rng.standard_normal((12, 3, classes))).astype(dtype)
        labels = rng.integers(1, classes, size=(3, label_length))
        given = logits if class_order == "contiguous" else logits[:, :, ::-1]
        given_labels = labels if class_order == "contiguous" else classes - 1 - labels
        blank = 0 if class_order == "contiguous" else classes - 1
        loss, grad = fastctc.ctc_loss_and_grad(given, given_labels, blank=blank)
        expected_loss, expected_grad = reference.ctc_loss_and_grad(logits, labels)
        np.testing.assert_allclose(loss, expected_loss, **TOLERANCES[dtype], err_msg=f"C={classes}")
        grad_in_order = grad if class_order == "contiguous" else grad[:, :, ::-1]
        np.testing.assert_allclose(
            grad_in_order, expected_grad, **TOLERANCES[dtype], err_msg=f"C={classes}"
        )
        np.testing.assert_array_equal(fastctc.ctc_loss(given, given_labels, blank=blank), loss)


@pytest.mark.parametrize(
    ("frames", "labels", "scale"),
    [pytest.param(120, 30, 10.0, id="grouped-wide-rows"), pytest.param(800, 150, 3.0, id="long")],
)
def test_class_table_keeps_float32_gradients_correctly_rounded(
    rng: np.random.Generator, frames: int, labels: int, scale: float
) -> None:
    # float32 rows through the class table take a lower-degree polynomial for their
    # exponentials (2.8e-10 relative), reduced in double. The rounding to float32 alone
    # errs by up to 2^-25 = 3.0e-8 on entries in [0.5, 1); float's own polynomial (8e-8)
    # erred by 9e-8 and 1.0e-7 here, a reduction in float by 1.3e-6 on the wide rows.
    logits = (scale * rng.standard_normal((frames, 4, 28))).astype(np.float32)
    targets = rng.integers(1, 28, size=(4, labels))
    loss, grad = fastctc.ctc_loss_and_grad(logits, targets)
    expected_loss, expected_grad = reference.ctc_loss_and_grad(logits.astype(np.float64), targets)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-7)
    assert np.max(np.abs(grad - expected_grad)) < 4e-8


def test_per_label_position_keeps_float32_gradients_within_an_ulp(rng: np.random.Generator) -> None:
    # Large alphabets read a frame without the class table: the softmax takes float's
    # exponentials (8e-8 relative), the label positions' emissions double's. Measured:
    # 3.7e-8 at most here; an ulp of entries in [0.5, 1) is 6.0e-8.
    frames, classes, labels = 120, 200, 8  # 200 > 2 |l| + 102: no class table
    logits = (10.0 * rng.standard_normal((frames, 4, classes))).astype(np.float32)
    targets = rng.integers(1, classes, size=(4, labels))
    loss, grad = fastctc.ctc_loss_and_grad(logits, targets)
    expected_loss, expected_grad = reference.ctc_loss_and_grad(logits.astype(np.float64), targets)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-7)
    assert np.max(np.abs(grad - expected_grad)) < 6e-8


def test_label_emissions_of_every_length_on_a_large_alphabet() -> None:
    # Where the alphabet is large next to the label (C > 2 |l| + 102), a frame's label
    # emissions take their exponentials in chunks of eight, the last chunk overlapping
    # the one before and computed from its saved inputs (transform_in_chunks()): every
    # label length from 0 to 40 puts the overlap at each place in a chunk.
    rng = np.random.default_rng(5)
    for length in range(41):
        inputs = rng.standard_normal((2 * length + 2, 2, 400))
        labels = rng.integers(1, 400, size=(2, length))
        expected_loss, expected_grad = reference.ctc_loss_and_grad(inputs, labels)
        loss, grad = fastctc.ctc_loss_and_grad(inputs, labels)
        np.testing.assert_allclose(loss, expected_loss, rtol=1e-13, err_msg=str(length))
        np.testing.assert_allclose(fastctc.ctc_loss(inputs, labels), loss, rtol=1e-15)
        np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-13, err_msg=str(length))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_of_every_length_past_a_cache_line(rng: np.random.Generator, dtype: type) -> None:
    # Rows of more than 64 classes are read a cache line at a time, the last line moved
    # back to overlap the one before (for_each_in_lines()): 16 floats or 8 doubles a
    # line, so these lengths put the overlap at every place in a line, through the class
    # table (65 to 80 classes, labels of 4) and without it (107 to 122, labels of 2).
    shapes = [(classes, 4) for classes in range(65, 81)] + [(c, 2) for c in range(107, 123)]
    for classes, label_length in shapes:
        logits = (3.0 * rng.standard_normal((12, 2, classes))).astype(dtype)
        targets = rng.integers(1, classes, size=(2, label_length))
        expected_loss, expected_grad = reference.ctc_loss_and_grad(
            logits.astype(np.float64), targets
        )
        loss, grad = fastctc.ctc_loss_and_grad(logits, targets)
        np.testing.assert_allclose(loss, expected_loss, **TOLERANCES[dtype], err_msg=str(classes))
        np.testing.assert_allclose(grad, expected_grad, **TOLERANCES[dtype], err_msg=str(classes))
        np.testing.assert_array_equal(fastctc.ctc_loss(logits, targets), loss, err_msg=str(classes))


LONG_SEQUENCES = [
    # Long inputs that fit the label badly: the forward mass runs far ahead of the
    # posterior, by more than a double's range (a probability-space path that
    # normalises whole rows silently gets these wrong).
    pytest.param(8000, 400, id="T8000-L400"),
    pytest.param(3000, 600, id="T3000-L600"),
]


@pytest.mark.parametrize(("frames", "labels"), LONG_SEQUENCES)
def test_long_random_sequences_match_reference(frames: int, labels: int) -> None:
    problem = random_problem(
        np.random.default_rng(frames + labels),
        frames=frames,
        batch=1,
        classes=32,
        max_label=labels,
        variable_lengths=False,
    )
    expected_loss, expected_grad = reference.ctc_loss_and_grad(problem.inputs, problem.labels)
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, num_threads=1)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-11)
    # Far tails of these forward rows underflow, so the loss alone cannot rest on them
    # being exact; it vouches for them by a bound on what they can have lost, from an
    # upper bound of the backward rows (certify_loss()), and is the same bits, on one
    # thread or shared by several (SharedCertification, with more threads than the two
    # that run its passes).
    for threads in (1, 2, 3, 8):
        np.testing.assert_array_equal(
            fastctc.ctc_loss(problem.inputs, problem.labels, num_threads=threads), loss
        )


@pytest.mark.parametrize("scale", [1.0, 2.0, 8.0, 16.0])
def test_every_verdict_on_a_long_loss_alone_is_the_same_on_any_thread_count(scale: float) -> None:
    # Logits x 1: the forward rows stay exact; x 2 and x 8: they lose values to
    # underflow and the bound on what they lost certifies the loss; x 16: the bound
    # fails and the loss is computed again in log space (told apart by their times,
    # 1.3 against 5.7 ms; with the bound made to pass always, the loss at x 16 is 0.8%
    # too small).
    # One thread runs its two passes in turn, two or three side by side
    # (SharedCertification): the same verdict, the same bits.
    rng = np.random.default_rng(7)
    inputs = rng.standard_normal((1500, 1, 32)) * scale
    labels = rng.integers(1, 32, size=(1, 250))
    losses = [fastctc.ctc_loss(inputs, labels, num_threads=threads) for threads in (1, 2, 3)]
    np.testing.assert_allclose(losses[0], reference.ctc_loss(inputs, labels), rtol=1e-12)
    for loss in losses[1:]:
        np.testing.assert_array_equal(loss, losses[0])


@pytest.mark.parametrize("seed", range(16))
def test_long_losses_alone_at_every_scale_match_reference(seed: int) -> None:
    # Long sequences whose forward rows lose values to underflow, at scales from rows
    # that stay exact to rows the certification must refuse (then computed in log
    # space), a third with one class 800 below the rest at a tenth of the frames: the
    # loss alone is right to rounding whichever way it is vouched for, on one thread
    # and shared by two (a random sweep of 3042 such sequences: at most 4e-15).
    rng = np.random.default_rng(seed)
    frames, classes = int(rng.integers(200, 1500)), int(rng.integers(3, 40))
    labels = rng.integers(1, classes, size=(1, int(rng.integers(1, frames // 3))))
    inputs = rng.standard_normal((frames, 1, classes)) * [0.5, 1, 2, 4, 8, 12, 16, 30][seed % 8]
    if seed % 3 == 0:
        inputs[rng.integers(0, frames, size=frames // 10), 0, rng.integers(0, classes)] -= 800.0
    expected = reference.ctc_loss(inputs, labels)
    for threads in (1, 2):
        loss = fastctc.ctc_loss(inputs, labels, num_threads=threads)
        np.testing.assert_allclose(loss, expected, rtol=1e-12)


@pytest.mark.parametrize("frame", [0, 700, 1199])
def test_the_loss_alone_past_a_flushed_emission_matches_reference(frame: int) -> None:
    # The forward rows of this sequence stay exact, but at one frame the first label's
    # class lies 800 below the largest logit: its exponential flushes to 0, so from
    # that frame on the loss alone must be certified by the per-frame bounds (the
    # frames before it lost nothing and are not checked). The frame is found as the
    # rows are computed on one thread, and among frames read in parallel when the
    # sequence is shared; either way the same bits.
    rng = np.random.default_rng(5)
    inputs = rng.standard_normal((1200, 1, 32))
    labels = rng.integers(1, 32, size=(1, 200))
    inputs[frame, 0, labels[0, 0]] = inputs[frame, 0].max() - 800.0
    expected = reference.ctc_loss(inputs, labels)
    loss, _ = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(fastctc.ctc_loss(inputs, labels, num_threads=threads), loss)


def test_peaked_long_input_keeps_float64_accuracy() -> None:
    # Logits x 100 over 2000 frames: ln p is about -2.9e5, and the core takes its
    # log-space path. Rows of ln alpha and ln beta kept unshifted would carry rounding
    # errors of order eps |ln p| (measured: 1.1e-11 in the gradient here, 9.7e-11 at
    # 10,000 frames); shifted by their predecessor's maximum, as in the reference, 3e-12.
    problem = random_problem(
        np.random.default_rng(20061),
        frames=2000,
        batch=1,
        classes=30,
        max_label=150,
        variable_lengths=False,
        scale=100.0,
    )
    expected_loss, expected_grad = reference.ctc_loss_and_grad(problem.inputs, problem.labels)
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels)
    assert expected_loss[0] > 2e5  # a large |ln p|: the case this test is about
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-15)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=6e-12)
