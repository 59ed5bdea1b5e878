"""fastctc.torch: the drop-in for torch.nn.functional.ctc_loss (skipped without PyTorch)."""

from __future__ import annotations

import importlib.util
import inspect
import re

import numpy as np
import pytest

import fastctc
from fastctc import reference
from fastctc.testing import HARD_CASES, CTCProblem, assert_ctc_close, random_ctc_problem

torch = pytest.importorskip("torch")
F = torch.nn.functional
fastctc_torch = pytest.importorskip("fastctc.torch")

DTYPES = [pytest.param(torch.float64, id="float64"), pytest.param(torch.float32, id="float32")]
REDUCTIONS = ["none", "sum", "mean"]
# PyTorch's float32 kernel works in float32 (a few 1e-5 off on the gradient).
TOLERANCES = {
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
    torch.float32: {"rtol": 1e-4, "atol": 1e-4},
}


def _tensors(problem: CTCProblem, dtype: torch.dtype) -> tuple:
    """Logits as a leaf that requires grad; padded targets and lengths as PyTorch takes them."""
    logits = torch.tensor(problem.inputs, dtype=dtype, requires_grad=True)
    targets = torch.tensor(problem.padded_labels(pad=0))
    return logits, targets, torch.tensor(problem.input_lengths), torch.tensor(problem.label_lengths)


def _loss_and_logit_grad(ctc_loss, logits, *arguments, **options) -> tuple:
    """A CTC loss of log_softmax(logits) and its gradient with respect to the logits."""
    loss = ctc_loss(F.log_softmax(logits, dim=-1), *arguments, **options)
    (grad,) = torch.autograd.grad(loss.sum(), logits)
    return loss.detach(), grad


def test_signature_is_torchs_plus_logits_keyword() -> None:
    ours = inspect.signature(fastctc_torch.ctc_loss).parameters
    theirs = inspect.signature(F.ctc_loss).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    assert all(ours[name].default == theirs[name].default for name in theirs)
    assert list(ours)[len(theirs) :] == ["logits"]
    assert ours["logits"].kind == inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True], ids=["inf", "zero_infinity"])
def test_matches_torch_loss_and_logit_gradient(
    dtype: torch.dtype, reduction: str, zero_infinity: bool
) -> None:
    problem = random_ctc_problem(1, frames=40, batch=6, classes=9, max_label=12, blank=3)
    if zero_infinity:  # PyTorch's gradient is NaN on impossible items without it
        problem = random_ctc_problem(1, frames=40, batch=6, classes=9, max_label=12, impossible=2)
    logits, *arguments = _tensors(problem, dtype)
    options = {"blank": problem.blank, "reduction": reduction, "zero_infinity": zero_infinity}
    loss, grad = _loss_and_logit_grad(fastctc_torch.ctc_loss, logits, *arguments, **options)
    expected_loss, expected_grad = _loss_and_logit_grad(F.ctc_loss, logits, *arguments, **options)
    assert loss.dtype == dtype and loss.shape == expected_loss.shape
    torch.testing.assert_close(loss, expected_loss, **TOLERANCES[dtype])
    torch.testing.assert_close(grad, expected_grad, **TOLERANCES[dtype])


TARGET_FORMS = ["padded", "concatenated"]
LENGTH_FORMS = ["int64", "int32", "tuple", "list"]


@pytest.mark.parametrize("target_form", TARGET_FORMS)
@pytest.mark.parametrize("length_form", LENGTH_FORMS)
def test_every_target_and_length_form_torch_takes(target_form: str, length_form: str) -> None:
    problem = random_ctc_problem(2, frames=30, batch=5, classes=7, max_label=10, empty_labels=1)
    logits = torch.tensor(problem.inputs, requires_grad=True)
    targets = torch.tensor(
        problem.padded_labels(pad=0) if target_form == "padded" else problem.concatenated_labels()
    )
    lengths = [problem.input_lengths.tolist(), problem.label_lengths.tolist()]
    if length_form == "tuple":
        lengths = [tuple(values) for values in lengths]
    elif length_form != "list":
        lengths = [torch.tensor(values, dtype=getattr(torch, length_form)) for values in lengths]
    loss, grad = _loss_and_logit_grad(fastctc_torch.ctc_loss, logits, targets, *lengths)
    expected_loss, expected_grad = _loss_and_logit_grad(F.ctc_loss, logits, targets, *lengths)
    torch.testing.assert_close(loss, expected_loss, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lengths", ["0-d", "1-element", "tuple"])
@pytest.mark.parametrize("target_shape", ["(S,)", "(1, S)"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input_matches_torch(lengths: str, target_shape: str, reduction: str) -> None:
    problem = random_ctc_problem(3, frames=25, batch=1, classes=6, max_label=8)
    logits = torch.tensor(problem.inputs[:, 0], requires_grad=True)  # (T, C)
    targets = torch.tensor(problem.padded_labels(pad=0)[0])
    targets = targets if target_shape == "(S,)" else targets[None]
    input_length, target_length = int(problem.input_lengths[0]), int(problem.label_lengths[0])
    if lengths == "0-d":
        length_arguments = (torch.tensor(input_length), torch.tensor(target_length))
    elif lengths == "1-element":
        length_arguments = (torch.tensor([input_length]), torch.tensor([target_length]))
    else:
        length_arguments = ((input_length,), (target_length,))
    arguments = (targets, *length_arguments)
    loss, grad = _loss_and_logit_grad(
        fastctc_torch.ctc_loss, logits, *arguments, reduction=reduction
    )
    expected_loss, expected_grad = _loss_and_logit_grad(
        F.ctc_loss, logits, *arguments, reduction=reduction
    )
    assert loss.shape == expected_loss.shape == ()
    torch.testing.assert_close(loss, expected_loss, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", sorted(HARD_CASES))
@pytest.mark.parametrize("logits", [False, True], ids=["log_probs", "logits"])
def test_hard_cases_against_the_oracle(case: str, logits: bool) -> None:
    problem = random_ctc_problem(4, dtype=np.float32, **HARD_CASES[case])
    x = torch.tensor(problem.inputs, requires_grad=True)
    loss = fastctc_torch.ctc_loss(
        x if logits else F.log_softmax(x, dim=-1),
        torch.tensor(problem.padded_labels(pad=0)),
        torch.tensor(problem.input_lengths),
        torch.tensor(problem.label_lengths),
        blank=problem.blank,
        reduction="none",
        logits=logits,
    )
    loss.sum().backward()
    assert_ctc_close(
        loss.detach(),
        x.grad,
        problem.inputs,
        problem.labels,
        problem.input_lengths,
        blank=problem.blank,
    )


def test_log_probs_gradient_is_the_true_partial_derivative() -> None:
    # -occupancy, not PyTorch's exp(log_probs) - occupancy; the two agree after
    # log_softmax's backward (test_matches_torch_loss_and_logit_gradient).
    problem = random_ctc_problem(5, frames=20, batch=4, classes=6, max_label=6)
    log_probs = torch.tensor(reference.log_softmax(problem.inputs), requires_grad=True)
    _, *arguments = _tensors(problem, torch.float64)
    fastctc_torch.ctc_loss(log_probs, *arguments, reduction="sum").backward()
    _, expected = reference.ctc_loss_and_grad(
        log_probs.detach().numpy(), problem.labels, problem.input_lengths, log_probs=True
    )
    np.testing.assert_allclose(log_probs.grad.numpy(), expected, rtol=1e-12, atol=1e-14)
    theirs = log_probs.detach().requires_grad_()
    F.ctc_loss(theirs, *arguments, reduction="sum").backward()
    within_length = np.arange(20)[:, None, None] < problem.input_lengths[None, :, None]
    probabilities = np.exp(theirs.detach().numpy()) * within_length
    np.testing.assert_allclose(theirs.grad - log_probs.grad, probabilities, atol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("logits", [False, True], ids=["log_probs", "logits"])
def test_gradcheck_in_float64(reduction: str, logits: bool) -> None:
    # Unnormalised log-scores on purpose: the gradient is the true derivative for any input.
    problem = random_ctc_problem(6, frames=6, batch=3, classes=4, max_label=3, repeat_rate=0.5)
    scores, targets, input_lengths, target_lengths = _tensors(problem, torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: fastctc_torch.ctc_loss(
            x, targets, input_lengths, target_lengths, reduction=reduction, logits=logits
        ),
        (scores,),
    )


def test_backward_honours_scalar_and_per_sequence_grad_output() -> None:
    problem = random_ctc_problem(7, frames=15, batch=5, classes=5, max_label=4)
    _, expected = reference.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    logits, *arguments = _tensors(problem, torch.float64)
    weights = torch.tensor([0.5, -2.0, 0.0, 3.0, 1.25], dtype=torch.float64)
    fastctc_torch.ctc_loss(logits, *arguments, reduction="none", logits=True).backward(weights)
    np.testing.assert_allclose(
        logits.grad.numpy(), expected * weights.numpy()[None, :, None], atol=1e-13
    )

    logits.grad = None
    (3.5 * fastctc_torch.ctc_loss(logits, *arguments, reduction="sum", logits=True)).backward()
    np.testing.assert_allclose(logits.grad.numpy(), 3.5 * expected, atol=1e-13)

    # The saved gradient is not consumed: a second backward gives the same answer.
    logits.grad = None
    loss = fastctc_torch.ctc_loss(logits, *arguments, reduction="mean", logits=True)
    loss.backward(retain_graph=True)
    first = logits.grad.clone()
    loss.backward()
    torch.testing.assert_close(logits.grad, 2 * first)


def test_second_derivatives_raise_instead_of_being_wrong() -> None:
    # The gradient is computed by the core, not by differentiable torch operations: a
    # second derivative would silently miss its part, so asking for one raises (as
    # PyTorch's own CTC loss does).
    problem = random_ctc_problem(13, frames=10, batch=2, classes=5, max_label=3)
    logits, *arguments = _tensors(problem, torch.float64)
    loss = fastctc_torch.ctc_loss(F.log_softmax(logits, -1), *arguments)
    with pytest.raises(RuntimeError, match="has no second derivative"):
        torch.autograd.grad(loss, logits, create_graph=True)


def test_cpu_tensors_reach_the_core_without_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_ctc_problem(8, frames=12, batch=3, classes=5, max_label=4)
    seen = {}

    def spy(name):
        real = getattr(fastctc._api, name)

        def record(inputs, *args, **kwargs):
            seen[name] = (inputs, kwargs)
            return real(inputs, *args, **kwargs)

        return record

    for name in ["ctc_loss", "ctc_loss_and_grad"]:
        monkeypatch.setattr(fastctc._api, name, spy(name))
    # Batch-major memory used time-major through a transposed view: non-contiguous.
    batch_major = torch.tensor(problem.inputs.transpose(1, 0, 2).copy(), requires_grad=True)
    log_probs = batch_major.transpose(0, 1)
    assert not log_probs.is_contiguous()
    _, targets, input_lengths, target_lengths = _tensors(problem, torch.float64)

    losses, grad = torch.ops.fastctc.ctc_loss_and_grad(
        log_probs, targets, input_lengths, target_lengths, 0, True, False
    )
    inputs, kwargs = seen["ctc_loss_and_grad"]
    assert inputs.ctypes.data == log_probs.data_ptr() and inputs.strides == tuple(
        8 * s for s in log_probs.stride()
    )
    assert kwargs["grad_out"].ctypes.data == grad.data_ptr()
    assert kwargs["out"].ctypes.data == losses.data_ptr()
    assert grad.stride() == log_probs.stride()  # the gradient keeps the input's memory layout

    with torch.no_grad():  # no gradient wanted: the loss-only path, no (T, N, C) output
        fastctc_torch.ctc_loss(log_probs, targets, input_lengths, target_lengths)
    assert np.shares_memory(seen["ctc_loss"][0], batch_major.detach().numpy())


def test_compiles_without_graph_breaks() -> None:
    # fullgraph=True raises on any graph break; AOTAutograd traces the backward through
    # the fake implementations. (aot_eager: inductor's code generation adds minutes of
    # CPU time and nothing about fastctc's op, which it calls as an opaque kernel.)
    problem = random_ctc_problem(9, frames=20, batch=4, classes=6, max_label=6)
    logits, *arguments = _tensors(problem, torch.float32)

    def loss_of(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return fastctc_torch.ctc_loss(F.log_softmax(x @ w, dim=-1), *arguments)

    results = []
    for function in (loss_of, torch.compile(loss_of, fullgraph=True, backend="aot_eager")):
        weight = torch.eye(6, requires_grad=True)
        loss = function(logits, weight)
        results.append((loss.detach(), *torch.autograd.grad(loss, (logits, weight))))
    for compiled, eager in zip(results[1], results[0]):
        torch.testing.assert_close(compiled, eager)


def test_custom_ops_pass_torch_opcheck() -> None:
    problem = random_ctc_problem(10, frames=10, batch=3, classes=5, max_label=3)
    logits, *arguments = _tensors(problem, torch.float64)
    torch.library.opcheck(torch.ops.fastctc.ctc_loss_and_grad, (logits, *arguments, 0, True, False))
    torch.library.opcheck(torch.ops.fastctc.ctc_loss, (logits.detach(), *arguments, 0, False, True))


def test_ctc_loss_module() -> None:
    problem = random_ctc_problem(11, frames=20, batch=4, classes=6, max_label=6)
    logits, *arguments = _tensors(problem, torch.float64)
    module = fastctc_torch.CTCLoss(blank=0, reduction="sum", logits=True)
    assert repr(module) == "CTCLoss(blank=0, reduction='sum', zero_infinity=False, logits=True)"
    expected = fastctc_torch.ctc_loss(logits, *arguments, reduction="sum", logits=True)
    torch.testing.assert_close(module(logits, *arguments), expected, rtol=0, atol=0)
    reference_module = torch.nn.CTCLoss(reduction="sum")
    torch.testing.assert_close(
        module(logits, *arguments), reference_module(F.log_softmax(logits, -1), *arguments)
    )


def test_errors_name_torchs_arguments() -> None:
    problem = random_ctc_problem(12, frames=10, batch=3, classes=5, max_label=3)
    logits, targets, input_lengths, target_lengths = _tensors(problem, torch.float64)
    arguments = (logits, targets, input_lengths, target_lengths)
    wrong = targets.clone()
    wrong[1, 0] = 7
    with pytest.raises(ValueError, match=re.escape("targets[1, 0] = 7 is out of range for C=5")):
        fastctc_torch.ctc_loss(logits, wrong, input_lengths, target_lengths)
    with pytest.raises(ValueError, match=re.escape("Expected target_lengths[0] to be at most")):
        fastctc_torch.ctc_loss(logits, targets[:, :1], input_lengths, target_lengths + 1)
    with pytest.raises(
        ValueError, match=re.escape("input_lengths[2] to be at most T=10, but got 11")
    ):
        fastctc_torch.ctc_loss(logits, targets, (10, 10, 11), target_lengths)
    with pytest.raises(
        TypeError, match="log_probs must be float32 or float64, but got dtype float16"
    ):
        fastctc_torch.ctc_loss(logits.half(), *arguments[1:])
    with pytest.raises(TypeError, match=r"log_probs must be a torch\.Tensor, but got ndarray"):
        fastctc_torch.ctc_loss(problem.inputs, *arguments[1:])
    with pytest.raises(ValueError, match="reduction must be one of"):
        fastctc_torch.ctc_loss(*arguments, reduction="avg")
    with pytest.raises(ValueError, match=re.escape("blank=5 is out of range for C=5 classes")):
        fastctc_torch.ctc_loss(*arguments, blank=5)


def test_cuda_tensors_go_to_fastctc_cuda_or_get_a_clear_error() -> None:
    # The one place where devices are routed, asked about a CUDA device (no GPU needed).
    cuda = torch.device("cuda", 0)
    if importlib.util.find_spec("fastctc._ctc_cuda") is None:
        with pytest.raises(RuntimeError, match=r"no CUDA unit\. Move the tensors to the CPU"):
            fastctc_torch._backend(cuda)
    else:
        assert fastctc_torch._backend(cuda).__name__ == "fastctc.cuda"
    with pytest.raises(RuntimeError, match="runs on CPU or CUDA tensors, but log_probs is on meta"):
        fastctc_torch._backend(torch.device("meta"))
