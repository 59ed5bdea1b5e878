"""fastctc for JAX: a drop-in for ``optax.ctc_loss``.

Design:
- ``jax.custom_vjp`` around ``jax.pure_callback``: the loss alone when no gradient is
  taken; under ``jax.grad`` the forward pass gets the losses and their gradient from
  one native pass, and the backward scales that gradient by the cotangent (one
  multiplication that XLA fuses), instead of a second pass.
- ``vmap_method="broadcast_all"``: under ``jax.vmap`` the callback receives the mapped
  axes in front of the batch and folds them into it, so a vmapped call is one native
  call, not one per element.
- Why a callback and not the XLA FFI: an FFI handler is C++ compiled against the
  headers of the jaxlib it will run with, which would tie fastctc's wheel to jaxlib
  versions and make JAX a build dependency; the callback keeps NumPy the only
  dependency and the Cython binding the only one. Its cost is a Python call per
  step (and, on an accelerator backend, a trip through host memory).
- Checks that need only shapes and dtypes raise at trace time; the values (labels,
  paddings) are checked on the host, before any native work, where JAX reports a
  failure as a ``JaxRuntimeError`` that carries fastctc's message.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from fastctc import _api
from fastctc._argument_names import argument_names

__all__ = ["ctc_loss"]

_NAMES = {"inputs": "logits", "blank": "blank_id"}


def ctc_loss(
    logits: jax.typing.ArrayLike,
    logit_paddings: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    label_paddings: jax.typing.ArrayLike,
    *,
    blank_id: int = 0,
) -> jax.Array:
    """The CTC loss of each sequence, with ``optax.ctc_loss``'s arguments and results.

    Parameters
    ----------
    logits
        (B, T, K) unnormalised logits, float32 or float64 (float16 and bfloat16 are
        computed in float32 and returned in their own dtype).
    logit_paddings
        (B, T): 1.0 for padded frames, 0.0 for the others; the padding of each row
        must come after its frames.
    labels
        (B, N) integer labels, right-padded.
    label_paddings
        (B, N): 1.0 for padding, 0.0 for labels, the padding after the labels.
    blank_id
        The blank class (a Python int; negative values count from the end).

    Returns
    -------
    The (B,) losses -ln p(labels | logits). Unlike optax, whose stand-in for ln 0
    gives about 1e5, a sequence that no alignment can produce gets ``inf`` (and a
    zero gradient).
    """
    logits, logit_paddings, labels, label_paddings = map(
        jnp.asarray, (logits, logit_paddings, labels, label_paddings)
    )
    _check_shapes(logits, logit_paddings, labels, label_paddings)
    with argument_names(_NAMES):
        blank = _api._check_blank(blank_id, logits.shape[-1])
    if not jnp.issubdtype(logits.dtype, jnp.floating):
        raise TypeError(f"logits must be floating-point, but got dtype {logits.dtype}")
    if logits.dtype.itemsize < 4:  # the core computes in float32 or float64
        losses = _ctc_loss(
            blank, logits.astype(jnp.float32), logit_paddings, labels, label_paddings
        )
        return losses.astype(logits.dtype)
    return _ctc_loss(blank, logits, logit_paddings, labels, label_paddings)


def _check_shapes(
    logits: jax.Array, logit_paddings: jax.Array, labels: jax.Array, label_paddings: jax.Array
) -> None:
    if logits.ndim != 3:
        raise ValueError(f"Expected logits of shape (B, T, K), but got shape {logits.shape}")
    if logit_paddings.shape != logits.shape[:2]:
        raise ValueError(
            f"Expected logit_paddings of shape (B, T)={logits.shape[:2]} like logits, but "
            f"got shape {logit_paddings.shape}"
        )
    if labels.ndim != 2 or labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"Expected labels of shape (B={logits.shape[0]}, N), but got shape {labels.shape}"
        )
    if label_paddings.shape != labels.shape:
        raise ValueError(
            f"Expected label_paddings of shape {labels.shape} like labels, but got shape "
            f"{label_paddings.shape}"
        )


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _ctc_loss(
    blank: int,
    logits: jax.Array,
    logit_paddings: jax.Array,
    labels: jax.Array,
    label_paddings: jax.Array,
) -> jax.Array:
    return jax.pure_callback(
        functools.partial(_host_ctc, blank, with_grad=False),
        jax.ShapeDtypeStruct(logits.shape[:-2], logits.dtype),
        logits,
        logit_paddings,
        labels,
        label_paddings,
        vmap_method="broadcast_all",
    )


def _ctc_loss_forward(
    blank: int,
    logits: jax.Array,
    logit_paddings: jax.Array,
    labels: jax.Array,
    label_paddings: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    losses, grad = jax.pure_callback(
        functools.partial(_host_ctc, blank, with_grad=True),
        (
            jax.ShapeDtypeStruct(logits.shape[:-2], logits.dtype),
            jax.ShapeDtypeStruct(logits.shape, logits.dtype),
        ),
        logits,
        logit_paddings,
        labels,
        label_paddings,
        vmap_method="broadcast_all",
    )
    return losses, grad


def _ctc_loss_backward(
    blank: int, grad: jax.Array, cotangent: jax.Array
) -> tuple[jax.Array, None, None, None]:
    return cotangent[..., None, None] * grad, None, None, None


_ctc_loss.defvjp(_ctc_loss_forward, _ctc_loss_backward)


# --- on the host ------------------------------------------------------------------------


def _host_ctc(
    blank: int,
    *arrays: jax.Array,
    with_grad: bool,
) -> Any:
    """The losses (and gradient) of (..., B, T, K) logits; leading axes come from vmap."""
    # The callback gets jax.Arrays in host memory: NumPy views of them are not copies.
    logits, logit_paddings, labels, label_paddings = (np.asarray(array) for array in arrays)
    batch_shape, (frames, classes) = logits.shape[:-2], logits.shape[-2:]
    arguments = (
        logits.reshape(-1, frames, classes),
        labels.reshape(-1, labels.shape[-1]),
        _lengths("logit_paddings", logit_paddings).reshape(-1),
        _lengths("label_paddings", label_paddings).reshape(-1),
    )
    with argument_names(_NAMES):
        if not with_grad:
            return _api.ctc_loss(*arguments, blank=blank, layout="NTC").reshape(batch_shape)
        losses, grad = _api.ctc_loss_and_grad(*arguments, blank=blank, layout="NTC")
    return losses.reshape(batch_shape), grad.reshape(logits.shape)


def _lengths(name: str, paddings: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """How many entries of each row come before its padding: 0.0s, then only 1.0s."""
    kept = paddings == 0
    not_binary = np.argwhere(~kept & (paddings != 1))
    if not_binary.size:
        index = tuple(int(i) for i in not_binary[0])
        raise ValueError(f"{name}{list(index)} = {paddings[index]}; paddings must be 0.0 or 1.0")
    lengths: npt.NDArray[np.int64] = kept.sum(axis=-1, dtype=np.int64)
    inside = np.arange(paddings.shape[-1]) < lengths[..., None]
    misplaced = np.argwhere(kept != inside)
    if misplaced.size:
        row = [int(i) for i in misplaced[0][:-1]]
        raise ValueError(
            f"{name}{row} pads before the end of the row: padding must come after "
            f"the {'frames' if name == 'logit_paddings' else 'labels'} (right-padding)"
        )
    return lengths
