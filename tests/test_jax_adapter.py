"""fastctc.jax: the drop-in for optax.ctc_loss (skipped without JAX and optax)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from fastctc import reference
from fastctc.testing import HARD_CASES, CTCProblem, assert_ctc_close, random_ctc_problem

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")
fastctc_jax = pytest.importorskip("fastctc.jax")


def _optax_arguments(problem: CTCProblem) -> tuple:
    """(B, T, K) logits, logit paddings, right-padded labels and label paddings."""
    frames = problem.inputs.shape[0]
    logits = jnp.asarray(problem.inputs.transpose(1, 0, 2))
    logit_paddings = (np.arange(frames)[None, :] >= problem.input_lengths[:, None]).astype(
        problem.inputs.dtype
    )
    labels = problem.padded_labels(pad=0).astype(np.int32)
    label_paddings = (np.arange(labels.shape[1])[None, :] >= problem.label_lengths[:, None]) * 1.0
    return logits, jnp.asarray(logit_paddings), jnp.asarray(labels), jnp.asarray(label_paddings)


def _loss_and_grad(ctc_loss, logits, *arguments, **options) -> tuple:
    def total(x):
        losses = ctc_loss(x, *arguments, **options)
        return losses.sum(), losses

    (_, losses), grad = jax.value_and_grad(total, has_aux=True)(logits)
    return np.asarray(losses), np.asarray(grad)


def test_signature_is_optaxs_without_log_epsilon() -> None:
    ours = inspect.signature(fastctc_jax.ctc_loss).parameters
    theirs = dict(inspect.signature(optax.ctc_loss).parameters)
    del theirs["log_epsilon"]  # optax's stand-in for ln 0; fastctc uses ln 0 itself
    assert list(ours) == list(theirs)
    assert all(ours[name].kind == theirs[name].kind for name in theirs)
    assert ours["blank_id"].default == theirs["blank_id"].default


@pytest.mark.parametrize("blank", [0, 5], ids=["blank-0", "blank-5"])
def test_matches_optax_loss_and_gradient(blank: int) -> None:
    problem = random_ctc_problem(
        1, frames=40, batch=6, classes=9, max_label=12, blank=blank, dtype=np.float32
    )
    arguments = _optax_arguments(problem)
    loss, grad = _loss_and_grad(fastctc_jax.ctc_loss, *arguments, blank_id=blank)
    expected_loss, expected_grad = _loss_and_grad(optax.ctc_loss, *arguments, blank_id=blank)
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-5)


@pytest.mark.parametrize("case", sorted(HARD_CASES))
def test_hard_cases_against_the_oracle(case: str) -> None:
    problem = random_ctc_problem(2, dtype=np.float32, **HARD_CASES[case])
    logits, *arguments = _optax_arguments(problem)
    loss, grad = _loss_and_grad(fastctc_jax.ctc_loss, logits, *arguments, blank_id=problem.blank)
    assert_ctc_close(
        loss, grad, logits, problem.labels, problem.input_lengths, blank=problem.blank, layout="NTC"
    )


def test_impossible_alignments_give_inf_where_optax_gives_about_1e5() -> None:
    problem = random_ctc_problem(3, frames=20, batch=4, classes=6, max_label=6, impossible=2)
    arguments = _optax_arguments(problem)
    loss, grad = _loss_and_grad(fastctc_jax.ctc_loss, *arguments)
    theirs, _ = _loss_and_grad(optax.ctc_loss, *arguments)
    impossible = np.isinf(loss)
    assert np.count_nonzero(impossible) == 2 and np.all(loss[impossible] > 0)
    assert np.all(grad[impossible] == 0.0)
    assert np.all((theirs[impossible] > 1e4) & np.isfinite(theirs[impossible]))
    np.testing.assert_allclose(loss[~impossible], theirs[~impossible], rtol=1e-5)


def test_jit_vmap_and_grad_compose() -> None:
    problem = random_ctc_problem(4, frames=25, batch=4, classes=7, max_label=8, dtype=np.float32)
    logits, *arguments = _optax_arguments(problem)
    stacked = jnp.stack([logits, 0.5 * logits, 2.0 * logits])

    def total(x):
        return fastctc_jax.ctc_loss(x, *arguments).sum()

    eager = [_loss_and_grad(fastctc_jax.ctc_loss, x, *arguments) for x in stacked]
    jitted_grad = jax.jit(jax.grad(total))
    for x, (_, grad) in zip(stacked, eager):
        np.testing.assert_array_equal(jitted_grad(x), grad)
    # vmap over a new leading axis: one native call for the whole stack.
    batched = jax.jit(jax.vmap(lambda x: fastctc_jax.ctc_loss(x, *arguments)))(stacked)
    np.testing.assert_array_equal(batched, np.stack([loss for loss, _ in eager]))
    grads = jax.vmap(jax.grad(total))(stacked)
    np.testing.assert_array_equal(grads, np.stack([grad for _, grad in eager]))
    # vmap over the batch itself, each example a batch of one.
    one_each = jax.vmap(lambda *xs: fastctc_jax.ctc_loss(*(x[None] for x in xs))[0])
    np.testing.assert_array_equal(one_each(logits, *arguments), eager[0][0])


def test_cotangents_scale_each_sequence() -> None:
    problem = random_ctc_problem(5, frames=15, batch=5, classes=5, max_label=4, dtype=np.float32)
    logits, *arguments = _optax_arguments(problem)
    weights = jnp.asarray([0.5, -2.0, 0.0, 3.0, 1.25], dtype=jnp.float32)
    _, vjp = jax.vjp(lambda x: fastctc_jax.ctc_loss(x, *arguments), logits)
    (grad,) = vjp(weights)
    _, expected = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    weighted = expected.transpose(1, 0, 2) * np.asarray(weights)[:, None, None]
    np.testing.assert_allclose(grad, weighted, atol=1e-6)


def test_float64_gradient_passes_jax_check_grads() -> None:
    from jax.test_util import check_grads

    problem = random_ctc_problem(6, frames=8, batch=3, classes=4, max_label=3, repeat_rate=0.5)
    with jax.enable_x64(True):
        logits, *arguments = _optax_arguments(problem)
        assert logits.dtype == jnp.float64
        loss, grad = _loss_and_grad(fastctc_jax.ctc_loss, logits, *arguments)
        assert_ctc_close(
            loss, grad, logits, problem.labels, problem.input_lengths,
            layout="NTC", rtol=1e-12, atol=1e-14,
        )  # fmt: skip
        check_grads(lambda x: fastctc_jax.ctc_loss(x, *arguments), (logits,), 1, modes=["rev"])


def test_bfloat16_is_computed_in_float32_and_returned_in_bfloat16() -> None:
    problem = random_ctc_problem(7, frames=20, batch=3, classes=6, max_label=5, dtype=np.float32)
    logits, *arguments = _optax_arguments(problem)
    half = logits.astype(jnp.bfloat16)
    loss, grad = _loss_and_grad(fastctc_jax.ctc_loss, half, *arguments)
    assert loss.dtype == grad.dtype == jnp.bfloat16
    expected_loss, expected_grad = _loss_and_grad(
        fastctc_jax.ctc_loss, half.astype(jnp.float32), *arguments
    )
    np.testing.assert_allclose(loss.astype(np.float32), expected_loss, rtol=1e-2)
    np.testing.assert_allclose(grad.astype(np.float32), expected_grad, atol=1e-2)


def test_shape_dtype_and_blank_errors_raise_at_trace_time() -> None:
    problem = random_ctc_problem(8, frames=10, batch=3, classes=5, max_label=3, dtype=np.float32)
    logits, logit_paddings, labels, label_paddings = _optax_arguments(problem)
    with pytest.raises(ValueError, match=re.escape("logit_paddings of shape (B, T)=(3, 10)")):
        jax.jit(fastctc_jax.ctc_loss)(logits, logit_paddings[:, :9], labels, label_paddings)
    with pytest.raises(ValueError, match=re.escape("Expected labels of shape (B=3, N)")):
        fastctc_jax.ctc_loss(logits, logit_paddings, labels[:2], label_paddings[:2])
    with pytest.raises(ValueError, match=re.escape(f"label_paddings of shape {labels.shape} like")):
        fastctc_jax.ctc_loss(logits, logit_paddings, labels, label_paddings[:, :-1])
    with pytest.raises(ValueError, match=re.escape("Expected logits of shape (B, T, K)")):
        fastctc_jax.ctc_loss(logits[0], logit_paddings, labels, label_paddings)
    with pytest.raises(TypeError, match="logits must be floating-point, but got dtype int32"):
        fastctc_jax.ctc_loss(logits.astype(jnp.int32), logit_paddings, labels, label_paddings)
    with pytest.raises(ValueError, match=re.escape("blank_id=5 is out of range for C=5 classes")):
        fastctc_jax.ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id=5)


def test_label_and_padding_values_are_checked_before_native_work() -> None:
    # Values are only known when the computation runs; JAX reports a failed callback
    # as a JaxRuntimeError carrying fastctc's message.
    problem = random_ctc_problem(9, frames=10, batch=3, classes=5, max_label=3, dtype=np.float32)
    problem.labels[1] = np.array([2, 9])
    logits, logit_paddings, labels, label_paddings = _optax_arguments(problem)
    with pytest.raises(jax.errors.JaxRuntimeError, match=re.escape("labels[1, 1] = 9 is out of")):
        jax.jit(fastctc_jax.ctc_loss)(logits, logit_paddings, labels, label_paddings)
    holes = logit_paddings.at[2, 0].set(1.0).at[2, 1:].set(0.0)
    with pytest.raises(
        jax.errors.JaxRuntimeError, match=re.escape("logit_paddings[2] pads before")
    ):
        fastctc_jax.ctc_loss(logits, holes, labels, label_paddings)
    with pytest.raises(jax.errors.JaxRuntimeError, match=re.escape("label_paddings[0, 0] = 0.5;")):
        fastctc_jax.ctc_loss(logits, logit_paddings, labels, label_paddings.at[0, 0].set(0.5))
