"""fastctc.tensorflow: the drop-in for tf.nn.ctc_loss and the Keras 3 loss (skipped
without TensorFlow)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from fastctc import reference
from fastctc.demo import make_dataset, pad_batch
from fastctc.testing import HARD_CASES, CTCProblem, assert_ctc_close, random_ctc_problem

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
fastctc_tf = pytest.importorskip("fastctc.tensorflow")


def _arguments(problem: CTCProblem, time_major: bool = True) -> tuple:
    """labels, logits (in the layout asked for), label_length, logit_length, as TF takes them."""
    logits = problem.inputs if time_major else problem.inputs.transpose(1, 0, 2)
    return (
        tf.constant(problem.padded_labels(pad=0), tf.int32),
        tf.constant(logits),
        tf.constant(problem.label_lengths, tf.int32),
        tf.constant(problem.input_lengths, tf.int32),
    )


def _loss_and_grad(ctc_loss, labels, logits, *arguments, weights=None, **options) -> tuple:
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = ctc_loss(labels, logits, *arguments, **options)
        total = tf.reduce_sum(loss if weights is None else loss * weights)
    return loss.numpy(), tape.gradient(total, logits).numpy()


def test_signature_is_tfs_without_its_tpu_and_naming_options() -> None:
    ours = inspect.signature(fastctc_tf.ctc_loss).parameters
    theirs = dict(inspect.signature(tf.nn.ctc_loss).parameters)
    del theirs["unique"], theirs["name"]  # a TPU speed hint and an op name scope
    assert list(ours) == list(theirs)
    assert ours["logits_time_major"].default == theirs["logits_time_major"].default is True
    assert ours["blank_index"].default == 0  # TensorFlow's None, which means class 0


@pytest.mark.parametrize("time_major", [True, False], ids=["time-major", "batch-major"])
@pytest.mark.parametrize("blank", [0, -1], ids=["blank-0", "blank-last"])
def test_matches_tf_loss_and_gradient(time_major: bool, blank: int) -> None:
    problem = random_ctc_problem(
        1, frames=40, batch=6, classes=9, max_label=12, blank=blank, dtype=np.float32
    )
    arguments = _arguments(problem, time_major)
    options = {"logits_time_major": time_major, "blank_index": blank}
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, *arguments, **options)
    expected_loss, expected_grad = _loss_and_grad(tf.nn.ctc_loss, *arguments, **options)
    assert loss.dtype == grad.dtype == np.float32
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-5)


def test_sparse_labels_match_tf() -> None:
    problem = random_ctc_problem(2, frames=30, batch=5, classes=7, max_label=8, dtype=np.float32)
    labels, logits, _, logit_length = _arguments(problem)
    sparse = tf.sparse.from_dense(labels)  # drops the padding zeros (the blank)
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, sparse, logits, None, logit_length)
    expected_loss, expected_grad = _loss_and_grad(
        tf.nn.ctc_loss, sparse, logits, None, logit_length, blank_index=0
    )
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-5)


@pytest.mark.parametrize("case", sorted(HARD_CASES))
def test_hard_cases_against_the_oracle(case: str) -> None:
    problem = random_ctc_problem(3, dtype=np.float32, **HARD_CASES[case])
    labels, logits, *lengths = _arguments(problem)
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, labels, logits, *lengths)
    assert_ctc_close(loss, grad, problem.inputs, problem.labels, problem.input_lengths)


def test_impossible_alignments_give_inf_where_tf_gives_a_large_finite_loss() -> None:
    problem = random_ctc_problem(
        4, frames=20, batch=4, classes=6, max_label=6, impossible=2, dtype=np.float32
    )
    arguments = _arguments(problem)
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, *arguments)
    theirs = tf.nn.ctc_loss(*arguments).numpy()
    impossible = np.isinf(loss)
    assert np.count_nonzero(impossible) == 2 and np.all(loss[impossible] > 0)
    assert np.all(grad[:, impossible] == 0.0)
    assert np.all(np.isfinite(theirs[impossible]) & (theirs[impossible] > 100))
    np.testing.assert_allclose(loss[~impossible], theirs[~impossible], rtol=1e-5)


def test_inside_tf_function_with_per_sequence_upstream_gradients() -> None:
    problem = random_ctc_problem(5, frames=15, batch=5, classes=5, max_label=4, dtype=np.float32)
    arguments = _arguments(problem, time_major=False)
    weights = tf.constant([0.5, -2.0, 0.0, 3.0, 1.25])

    @tf.function
    def loss_and_grad(labels, logits, label_length, logit_length):
        return _loss_tensors(labels, logits, label_length, logit_length, weights)

    loss, grad = loss_and_grad(*arguments)
    _, expected = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    weighted = expected.transpose(1, 0, 2) * weights.numpy()[:, None, None]
    np.testing.assert_allclose(grad.numpy(), weighted, atol=1e-6)
    np.testing.assert_allclose(loss.numpy(), fastctc_tf.ctc_loss(*arguments, False).numpy())


def _loss_tensors(labels, logits, label_length, logit_length, weights) -> tuple:
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = fastctc_tf.ctc_loss(
            labels, logits, label_length, logit_length, logits_time_major=False
        )
        total = tf.reduce_sum(loss * weights)
    return loss, tape.gradient(total, logits)


def test_float64_and_float16_logits() -> None:
    # TensorFlow's own CTC rejects float64; fastctc computes it exactly.
    problem = random_ctc_problem(6, frames=20, batch=4, classes=6, max_label=6)
    labels, logits, *lengths = _arguments(problem)
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, labels, logits, *lengths)
    assert loss.dtype == grad.dtype == np.float64
    assert_ctc_close(
        loss, grad, problem.inputs, problem.labels, problem.input_lengths, rtol=1e-12, atol=1e-14
    )
    half = tf.cast(logits, tf.float16)
    loss, grad = _loss_and_grad(fastctc_tf.ctc_loss, labels, half, *lengths)
    assert loss.dtype == grad.dtype == np.float16
    assert_ctc_close(loss, grad, half.numpy(), problem.labels, problem.input_lengths, rtol=1e-3)


def test_errors_name_tensorflows_arguments() -> None:
    problem = random_ctc_problem(7, frames=6, batch=3, classes=5, max_label=3, dtype=np.float32)
    labels, logits, label_length, logit_length = _arguments(problem)
    wrong = tf.tensor_scatter_nd_update(labels, [[1, 0]], [9])
    with pytest.raises(ValueError, match=re.escape("labels[1, 0] = 9 is out of range for C=5")):
        fastctc_tf.ctc_loss(wrong, logits, label_length, logit_length)
    with pytest.raises(ValueError, match=re.escape("logit_length[2] to be at most T=6, but got 7")):
        fastctc_tf.ctc_loss(labels, logits, label_length, [6, 6, 7])
    with pytest.raises(ValueError, match=re.escape("blank_index=5 is out of range for C=5")):
        fastctc_tf.ctc_loss(labels, logits, label_length, logit_length, blank_index=5)
    # In a graph, TensorFlow reports the host's ValueError as InvalidArgumentError.
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape("labels[1, 0] = 9 is out")):
        tf.function(fastctc_tf.ctc_loss)(wrong, logits, label_length, logit_length)


def _digit_strings(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The demo's noisy spoken-digit frames (N, T, 48) and labels padded with 0 (blank)."""
    rng = np.random.default_rng(seed)
    data = make_dataset(rng, rng.standard_normal((11, 16)), size, noise=0.5)
    features, _ = pad_batch(data.features)
    labels = np.zeros((size, max(len(label) for label in data.labels)), np.int32)
    for n, label in enumerate(data.labels):
        labels[n, : len(label)] = label
    return features.astype(np.float32), labels


def test_keras_model_fit_for_ten_epochs_with_a_falling_loss() -> None:
    # The seed article's scenario, cross-checked against Keras' own CTC loss from the
    # same initial weights on the same batches.
    features, labels = _digit_strings(8, 96)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(features.shape[1:]),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(11),
        ]
    )
    initial = model.get_weights()
    histories = {}
    for name, loss in [("fastctc", fastctc_tf.CTCLoss()), ("keras", keras.losses.CTC())]:
        model.set_weights(initial)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
        history = model.fit(features, labels, batch_size=16, epochs=10, shuffle=False, verbose=0)
        histories[name] = np.array(history.history["loss"])
    ours = histories["fastctc"]
    assert len(ours) == 10 and np.all(np.isfinite(ours))
    assert np.all(np.diff(ours) < 0), ours  # falls every epoch
    assert ours[-1] < 0.5 * ours[0]
    np.testing.assert_allclose(ours, histories["keras"], rtol=1e-3)
