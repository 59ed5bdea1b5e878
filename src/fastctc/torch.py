"""fastctc for PyTorch: a drop-in for ``torch.nn.functional.ctc_loss`` and ``nn.CTCLoss``.

Design:
- Two custom ops (``torch.library``), so that ``torch.compile`` traces through them
  without graph breaks: ``fastctc::ctc_loss`` (the losses only, for evaluation) and
  ``fastctc::ctc_loss_and_grad`` (the losses and their unscaled gradient, computed in
  one pass when the input requires a gradient). The backward scales that gradient by
  the upstream per-sequence gradient: a multiplication costs far less than a second
  forward pass, which recomputing the gradient with the core's ``grad_scale`` needs.
- CPU tensors reach the core as NumPy views of their memory (no copies, any strides),
  and the outputs are allocated by torch and written by the core in place. CUDA tensors
  go, in place as well, to :mod:`fastctc.cuda` when fastctc was built with its CUDA unit.
- The gradient with respect to ``log_probs`` is the true partial derivative,
  -occupancy. PyTorch's own backward returns ``exp(log_probs) - occupancy`` there; both
  give the same gradient for the logits after ``log_softmax``'s backward, so losses
  and trained models match PyTorch, while ``gradcheck`` passes here for any input.
- The reductions are done in torch, with PyTorch's formulas, so autograd hands the
  backward its per-sequence factors.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Union

import torch

from fastctc import _api
from fastctc._argument_names import argument_names

__all__ = ["CTCLoss", "ctc_loss"]

Lengths = Union[torch.Tensor, Sequence[int]]

_NAMES = {"inputs": "log_probs", "labels": "targets", "label_lengths": "target_lengths"}


def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: Lengths,
    target_lengths: Lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    *,
    logits: bool = False,
) -> torch.Tensor:
    """The CTC loss with ``torch.nn.functional.ctc_loss``'s arguments and results.

    Parameters
    ----------
    log_probs
        (T, N, C) or unbatched (T, C), float32 or float64: log-probabilities (e.g.
        ``log_softmax`` outputs; any log-scores are used as given), or raw logits
        with ``logits=True``.
    targets
        Padded (N, S), or the 1-D concatenation of all targets, integers.
    input_lengths, target_lengths
        N lengths each (for unbatched input, one), as tensors or tuples of ints.
    blank
        The blank class; negative values count from the end.
    reduction
        ``"none"``, ``"sum"`` or ``"mean"`` (each loss divided by its target length,
        then averaged over the batch), as in PyTorch.
    zero_infinity
        Impossible sequences get loss 0 instead of inf (their gradient is 0 either way).
    logits
        ``log_probs`` holds unnormalised logits: the softmax is folded into the
        loss, which saves the (T, N, C) ``log_softmax`` output and its backward.

    Returns
    -------
    The (N,) losses (a scalar for unbatched input) or their reduction.
    """
    _api._check_reduction(reduction)
    if not isinstance(log_probs, torch.Tensor):
        raise TypeError(f"log_probs must be a torch.Tensor, but got {type(log_probs).__name__}")
    unbatched = log_probs.dim() == 2
    inputs = log_probs.unsqueeze(1) if unbatched else log_probs
    targets = targets.unsqueeze(0) if unbatched and targets.dim() == 1 else targets
    input_lengths = _as_lengths(input_lengths, unbatched)
    target_lengths = _as_lengths(target_lengths, unbatched)
    arguments = (inputs, targets, input_lengths, target_lengths, blank, not logits, zero_infinity)
    losses: torch.Tensor
    if torch.is_grad_enabled() and inputs.requires_grad:
        losses = _ctc_loss_and_grad(*arguments)[0]
    else:
        losses = _ctc_loss(*arguments)
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return (losses / target_lengths.clamp(min=1).to(losses.dtype)).mean()
    return losses[0] if unbatched else losses


class CTCLoss(torch.nn.Module):
    """``torch.nn.CTCLoss`` on fastctc; ``logits=True`` takes raw logits."""

    def __init__(
        self,
        blank: int = 0,
        reduction: str = "mean",
        zero_infinity: bool = False,
        *,
        logits: bool = False,
    ) -> None:
        super().__init__()
        self.blank = blank
        self.reduction = reduction
        self.zero_infinity = zero_infinity
        self.logits = logits

    def forward(
        self,
        log_probs: torch.Tensor,
        targets: torch.Tensor,
        input_lengths: Lengths,
        target_lengths: Lengths,
    ) -> torch.Tensor:
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
            logits=self.logits,
        )

    def extra_repr(self) -> str:
        return (
            f"blank={self.blank}, reduction={self.reduction!r}, "
            f"zero_infinity={self.zero_infinity}, logits={self.logits}"
        )


def _as_lengths(lengths: Lengths, unbatched: bool) -> torch.Tensor:
    tensor = torch.as_tensor(lengths)
    return tensor.reshape(-1) if unbatched else tensor


# --- the custom ops: (T, N, C) inputs, per-sequence losses ------------------------------


@torch.library.custom_op("fastctc::ctc_loss", mutates_args=())
def _ctc_loss(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    log_probs: bool,
    zero_infinity: bool,
) -> torch.Tensor:
    """The (N,) losses of (T, N, C) inputs, without a gradient."""
    losses = inputs.new_empty(inputs.shape[1])
    arguments = (inputs, targets, input_lengths, target_lengths, blank, log_probs, zero_infinity)
    _run("ctc_loss", *arguments, out=losses)
    return losses


@torch.library.custom_op("fastctc::ctc_loss_and_grad", mutates_args=())
def _ctc_loss_and_grad(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    log_probs: bool,
    zero_infinity: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (N,) losses and the gradient of their sum, in the strides of ``inputs``."""
    losses = inputs.new_empty(inputs.shape[1])
    grad = torch.empty_like(inputs)
    arguments = (inputs, targets, input_lengths, target_lengths, blank, log_probs, zero_infinity)
    _run("ctc_loss_and_grad", *arguments, out=losses, grad_out=grad)
    return losses, grad


@_ctc_loss.register_fake
def _ctc_loss_fake(inputs: torch.Tensor, *_: object) -> torch.Tensor:
    return inputs.new_empty(inputs.shape[1])


@_ctc_loss_and_grad.register_fake
def _ctc_loss_and_grad_fake(inputs: torch.Tensor, *_: object) -> tuple[torch.Tensor, torch.Tensor]:
    return inputs.new_empty(inputs.shape[1]), torch.empty_like(inputs)


def _save_grad(
    ctx: torch.autograd.function.FunctionCtx,
    inputs: tuple[object, ...],
    output: tuple[torch.Tensor, torch.Tensor],
) -> None:
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(output[1])


def _scale_grad(
    ctx: Any, grad_losses: torch.Tensor, _: torch.Tensor
) -> tuple[torch.Tensor | None, ...]:
    if torch.is_grad_enabled():  # backward(create_graph=True): a derivative of the gradient
        raise RuntimeError(
            "fastctc.torch.ctc_loss has no second derivative: its backward cannot run with "
            "create_graph=True (nor can PyTorch's own CTC loss be differentiated twice)"
        )
    (grad,) = ctx.saved_tensors
    return grad * grad_losses[None, :, None], None, None, None, None, None, None


_ctc_loss_and_grad.register_autograd(_scale_grad, setup_context=_save_grad)


def _run(
    function: str,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    log_probs: bool,
    zero_infinity: bool,
    **outputs: torch.Tensor,
) -> None:
    """Runs ``function`` of fastctc (CPU tensors) or fastctc.cuda (CUDA tensors), writing
    the outputs in place (never copies the inputs); its errors name PyTorch's arguments."""
    tensors = {
        "inputs": inputs,
        "labels": targets,
        "input_lengths": input_lengths,
        "label_lengths": target_lengths,
        **outputs,
    }
    backend = _backend(inputs.device)
    if backend is _api:
        arguments = {name: tensor.detach().numpy() for name, tensor in tensors.items()}
    else:  # fastctc.cuda reads CUDA tensors in place, and host labels and lengths as they are
        arguments = {name: tensor.detach() for name, tensor in tensors.items()}
    with argument_names(_NAMES):
        getattr(backend, function)(
            **arguments, blank=blank, log_probs=log_probs, zero_infinity=zero_infinity
        )


def _backend(device: torch.device) -> ModuleType:
    """The one place where tensors on each device are routed: the CPU core, or fastctc.cuda."""
    if device.type == "cpu":
        return _api
    if device.type == "cuda":
        try:
            return importlib.import_module("fastctc.cuda")
        except ImportError as error:
            raise RuntimeError(
                "fastctc.torch got CUDA tensors, but this fastctc has no CUDA unit. Move the "
                "tensors to the CPU with .cpu(), or install a fastctc built from source with "
                "its optional CUDA unit (fastctc.cuda) on a machine with the CUDA toolkit."
            ) from error
    raise RuntimeError(f"fastctc.torch runs on CPU or CUDA tensors, but log_probs is on {device}")
