"""fastctc for TensorFlow: a drop-in for ``tf.nn.ctc_loss``, and a Keras 3 loss.

Design:
- ``tf.custom_gradient``: the forward pass gets the losses and their gradient with
  respect to the logits from one native pass (as TensorFlow's own CTC kernel does),
  and the gradient function scales it by the upstream per-sequence gradient.
- ``tf.numpy_function`` runs the host code the same way eagerly, inside
  ``tf.function`` and in Keras' ``model.fit``. It is not XLA-compilable: a model that
  uses this loss trains with ``jit_compile=False`` (Keras' default on CPU).
- Values are checked on the host before native work; TensorFlow reports a failure
  there as ``tf.errors.InvalidArgumentError`` carrying fastctc's message, in
  TensorFlow's own argument names.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy.typing as npt
import tensorflow as tf

from fastctc import _api
from fastctc._argument_names import argument_names

__all__ = ["CTCLoss", "ctc_loss"]

_NAMES = {
    "inputs": "logits",
    "input_lengths": "logit_length",
    "label_lengths": "label_length",
    "blank": "blank_index",
}


def ctc_loss(
    labels: Any,
    logits: Any,
    label_length: Any,
    logit_length: Any,
    logits_time_major: bool = True,
    blank_index: int = 0,
) -> tf.Tensor:
    """The CTC loss of each sequence, with ``tf.nn.ctc_loss``'s arguments and results.

    Parameters
    ----------
    labels
        (batch, max_label_length) integer labels, padded; or a ``tf.SparseTensor``
        (then ``label_length`` is None and each row's entries are its labels).
    logits
        (frames, batch, classes), or (batch, frames, classes) with
        ``logits_time_major=False``: unnormalised logits, float32 or float64
        (float16 and bfloat16 are computed in float32, returned in their own dtype).
    label_length, logit_length
        (batch,) lengths; None means every row, every frame.
    blank_index
        The blank class; negative values count from the end (-1: the last class).

    Returns
    -------
    The (batch,) losses -ln p(labels | logits); their gradient with respect to the
    logits is softmax - occupancy. Unlike TensorFlow, whose impossible alignments give
    a large finite loss, those give ``inf`` and a zero gradient.
    """
    logits = tf.convert_to_tensor(logits)
    if isinstance(labels, tf.SparseTensor):
        rows = tf.cast(labels.dense_shape[0], tf.int32)
        label_length = tf.math.bincount(
            tf.cast(labels.indices[:, 0], tf.int32), minlength=rows, maxlength=rows
        )
        labels = tf.sparse.to_dense(labels)
    labels = tf.convert_to_tensor(labels)
    batch_axis, time_axis = (1, 0) if logits_time_major else (0, 1)
    batch_size = tf.shape(logits)[batch_axis]
    if label_length is None:
        label_length = tf.fill([batch_size], tf.shape(labels)[1])
    if logit_length is None:
        logit_length = tf.fill([batch_size], tf.shape(logits)[time_axis])
    layout: _api.Layout = "TNC" if logits_time_major else "NTC"
    host = functools.partial(_host_ctc, blank=blank_index, layout=layout)
    arguments = [labels, label_length, logit_length]
    if logits.dtype in (tf.float16, tf.bfloat16):  # the core computes in float32 or float64
        losses = _differentiable(host, tf.cast(logits, tf.float32), arguments, batch_axis)
        return tf.cast(losses, logits.dtype)
    return _differentiable(host, logits, arguments, batch_axis)


def _differentiable(
    host: Any, logits: tf.Tensor, arguments: list[Any], batch_axis: int
) -> tf.Tensor:
    """The host's losses as a function of the logits, with the host's gradient."""
    per_sequence = [-1, 1, 1] if batch_axis == 0 else [1, -1, 1]  # broadcasts over grad

    @tf.custom_gradient
    def loss_of(logits: tf.Tensor) -> tuple[tf.Tensor, Any]:
        losses, grad = tf.numpy_function(
            host, [logits, *arguments], [logits.dtype, logits.dtype], stateful=False
        )
        losses.set_shape(logits.shape[batch_axis : batch_axis + 1])
        grad.set_shape(logits.shape)

        def backward(upstream: tf.Tensor) -> tf.Tensor:
            return tf.reshape(upstream, per_sequence) * grad

        return losses, backward

    return loss_of(logits)


def _host_ctc(
    logits: npt.NDArray[Any],
    labels: npt.NDArray[Any],
    label_length: npt.NDArray[Any],
    logit_length: npt.NDArray[Any],
    *,
    blank: int,
    layout: _api.Layout,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    with argument_names(_NAMES):
        return _api.ctc_loss_and_grad(
            logits, labels, logit_length, label_length, blank=blank, layout=layout
        )


class CTCLoss(keras.losses.Loss):
    """``keras.losses.CTC`` on fastctc, for ``model.compile(loss=CTCLoss())``.

    ``y_true``: (batch, max_length) integer labels, padded with 0 (class 0 is the
    blank, as in Keras); ``y_pred``: (batch, frames, classes) logits, all frames used.
    """

    def __init__(
        self, reduction: str = "sum_over_batch_size", name: str = "ctc", dtype: Any = None
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true: Any, y_pred: Any) -> tf.Tensor:
        labels = tf.cast(y_true, tf.int32)
        label_length = tf.reduce_sum(tf.cast(labels != 0, tf.int32), axis=-1)
        return ctc_loss(labels, y_pred, label_length, None, logits_time_major=False)
