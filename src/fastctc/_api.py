"""The public CTC functions: argument checks, normalisation and allocation.

Every error a caller can cause is raised here, before any native work starts and
before anything is written to ``out`` or ``grad_out``, with a message that names
the argument, the index and the value. Normalisation happens once: the inputs
become a (T, N, C)-indexed view of the caller's array (never a copy of it), the
labels one concatenated int32 array, the lengths int64 arrays (for the usual
NumPy arguments in one compiled pass, _targets.pyx, which leaves naming an error
to the steps here). The binding in _ctc.pyx then only passes pointers and strides
to the C core.
"""

from __future__ import annotations

import operator
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, cast

import numpy as np
import numpy.typing as npt

from fastctc import _ctc, _targets

Layout = Literal["TNC", "NTC"]
Reduction = Literal["none", "sum", "mean"]
LabelsLike = Union[npt.ArrayLike, Sequence[npt.ArrayLike]]
FloatArray = npt.NDArray[np.floating[Any]]

_LAYOUTS = ("TNC", "NTC")
_REDUCTIONS = ("none", "sum", "mean")
_INT32_MAX = 2**31 - 1


class _OpenMPState:
    """Whether this process may start OpenMP threads.

    GNU libgomp hangs in a child forked after the parent ran a multi-threaded
    parallel region. Once fastctc has asked for more than one thread, a forked
    child runs every call on one thread, which never enters the OpenMP runtime.
    """

    threads_started = False
    forked_after_threads = False

    @classmethod
    def after_fork_in_child(cls) -> None:
        cls.forked_after_threads = cls.threads_started


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_OpenMPState.after_fork_in_child)


@dataclass(frozen=True)
class _Problem:
    """A checked and normalised batch, ready for the core."""

    inputs: FloatArray  # the caller's array, unchanged layout
    layout: Layout  # the caller's layout of inputs (and of the gradient)
    inputs_tnc: FloatArray  # a (T, N, C)-indexed view of inputs
    labels: npt.NDArray[np.int32]  # all label sequences, concatenated
    input_lengths: npt.NDArray[np.int64]  # (N,)
    label_lengths: npt.NDArray[np.int64]  # (N,)
    blank: int  # in [0, C)
    num_threads: int  # 0: OpenMP's default

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.inputs.dtype

    @property
    def batch_size(self) -> int:
        return int(self.inputs_tnc.shape[1])

    @property
    def batch(
        self,
    ) -> tuple[FloatArray, npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The binding's first four arguments, as its functions all take them: the
        (T, N, C) inputs, the concatenated labels, the input and the label lengths."""
        return self.inputs_tnc, self.labels, self.input_lengths, self.label_lengths

    @property
    def extents(self) -> tuple[int, int, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The first four arguments of the binding's workspace queries: T, C, the input
        and the label lengths."""
        max_time, _, num_classes = self.inputs_tnc.shape
        return max_time, num_classes, self.input_lengths, self.label_lengths


@dataclass(frozen=True)
class _Targets:
    """Checked and normalised labels, lengths and blank (shared with fastctc.cuda)."""

    labels: npt.NDArray[np.int32]  # all label sequences, concatenated
    input_lengths: npt.NDArray[np.int64]  # (N,)
    label_lengths: npt.NDArray[np.int64]  # (N,)
    blank: int  # in [0, C)


def ctc_loss(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    reduction: Reduction = "none",
    zero_infinity: bool = False,
    num_threads: int | None = None,
    out: FloatArray | None = None,
) -> Any:
    """The CTC loss -ln p(labels | inputs) of each sequence of a batch.

    Parameters
    ----------
    inputs
        float32 or float64 array of shape (T, N, C) for ``layout="TNC"`` or (N, T, C)
        for ``"NTC"``, any strides. Logits (the softmax over C is folded in) or, with
        ``log_probs=True``, per-frame log-scores used exactly as given.
    labels
        A padded (N, S) integer array with ``label_lengths`` (default: every row
        whole); a 1-D concatenation of all label sequences with ``label_lengths``;
        or a list/tuple of N 1-D integer sequences (lengths inferred).
    input_lengths
        N frame counts, each at most T (default: all T).
    label_lengths
        N label lengths (see ``labels``).
    blank
        The blank class; negative values count from the end (-1 is the last class).
    layout
        ``"TNC"`` (time-major) or ``"NTC"`` (batch-major).
    log_probs
        Whether ``inputs`` are log-scores instead of logits.
    reduction
        ``"none"``: the (N,) losses; ``"sum"``: their sum; ``"mean"``: PyTorch's
        meaning, each loss divided by its label length (at least 1), then averaged.
    zero_infinity
        Give impossible sequences (too few frames for the label) loss 0, not inf.
    num_threads
        OpenMP threads (default: OpenMP's default, e.g. OMP_NUM_THREADS); at most
        1024 are started.
    out
        Optional output array of the result's shape and the inputs' dtype, written
        in place and returned.

    Returns
    -------
    The (N,) losses for ``reduction="none"``, else a scalar of the inputs' dtype.
    """
    problem = _prepare(inputs, labels, input_lengths, label_lengths, blank, layout, num_threads)
    _check_outputs(problem, reduction, out, grad_out=None)
    losses = _compute(problem, log_probs, zero_infinity, reduction, out, grad=None)
    return _reduce(losses, problem, reduction, out)


def ctc_loss_and_grad(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    reduction: Reduction = "none",
    zero_infinity: bool = False,
    num_threads: int | None = None,
    out: FloatArray | None = None,
    grad_out: FloatArray | None = None,
) -> tuple[Any, FloatArray]:
    """The CTC loss and its exact gradient with respect to ``inputs``.

    Takes the arguments of :func:`ctc_loss`, plus ``grad_out``: an optional array
    of the inputs' shape and dtype (any aligned strides, not overlapping ``inputs``),
    written in place and returned; reusing it across steps avoids page faults on
    fresh allocations.

    The gradient has the shape and layout of ``inputs``. For logits it is
    softmax - posterior occupancy; for log-scores (``log_probs=True``) it is
    - posterior occupancy, the exact partial derivative. It is scaled to match
    ``reduction``; frames past an input length and impossible sequences get 0.

    Returns
    -------
    (loss, grad): loss as :func:`ctc_loss` returns it, and the gradient.
    """
    problem = _prepare(inputs, labels, input_lengths, label_lengths, blank, layout, num_threads)
    _check_outputs(problem, reduction, out, grad_out)
    grad = grad_out if grad_out is not None else np.empty(problem.inputs.shape, problem.dtype)
    losses = _compute(problem, log_probs, zero_infinity, reduction, out, grad)
    return _reduce(losses, problem, reduction, out), grad


def workspace_size(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    with_grad: bool = True,
    num_threads: int | None = None,
) -> int:
    """Bytes of native scratch memory a CTC call with these arguments uses.

    It grows with the thread count and the largest sequence (frames x (2 x label
    length + 1)), never with the batch size, and with the number of classes only
    up to 3 x (longest label + 1) entries per thread; outputs are not included.
    Each Python thread keeps the largest workspace it has used for its next call.
    The arguments are checked as :func:`ctc_loss` checks them (so
    ``blank`` must be the one the call will use: labels may not contain it).
    """
    problem = _prepare(inputs, labels, input_lengths, label_lengths, blank, layout, num_threads)
    return _workspace_bytes(problem, with_grad)


# --- running the core -----------------------------------------------------------------


def _compute(
    problem: _Problem,
    log_probs: bool,
    zero_infinity: bool,
    reduction: Reduction,
    out: FloatArray | None,
    grad: FloatArray | None,
) -> FloatArray:
    """Runs the core; returns the (N,) losses, in ``out`` where that is possible."""
    writes_out_directly = reduction == "none" and out is not None and out.flags.c_contiguous
    losses = out if writes_out_directly else np.empty(problem.batch_size, problem.dtype)
    assert losses is not None

    def run(workspace: npt.NDArray[np.uint8]) -> bool:
        return _ctc.ctc_loss(
            *problem.batch,
            blank=problem.blank,
            log_probs=bool(log_probs),
            zero_infinity=bool(zero_infinity),
            num_threads=problem.num_threads,
            losses_out=losses,
            grad_out=None if grad is None else _tnc_view(grad, problem.layout),
            grad_scale=_grad_scale(problem.label_lengths, problem.dtype, reduction),
            workspace=workspace,
        )

    # This thread's workspace as its earlier calls left it; its size is asked only
    # when the core finds it too small (a first call, a larger batch).
    if not run(_thread_workspace()) and not run(
        _thread_workspace(_workspace_bytes(problem, grad is not None))
    ):
        raise RuntimeError("fastctc core: the workspace of the size it asked for was too small")
    return losses


_workspaces = threading.local()


def _thread_workspace(nbytes: int = 0) -> npt.NDArray[np.uint8]:
    """This thread's workspace, made at least ``nbytes`` long: the one of its earlier
    calls when that is large enough. (A fresh workspace of many megabytes is mapped and
    faulted in page by page on every call: a third of the time of a 5000-frame
    sequence.)"""
    buffer = getattr(_workspaces, "buffer", None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, np.uint8)
        _workspaces.buffer = buffer
    return cast("npt.NDArray[np.uint8]", buffer)


def _workspace_bytes(problem: _Problem, with_grad: bool) -> int:
    return _ctc.workspace_size(
        *problem.extents,
        with_grad=with_grad,
        num_threads=problem.num_threads,
    )


def _grad_scale(
    label_lengths: npt.NDArray[np.int64], dtype: np.dtype[Any], reduction: Reduction
) -> FloatArray | None:
    """Per-sequence gradient factors that match the reduction (None: all 1)."""
    if reduction != "mean":
        return None
    per_label = np.maximum(label_lengths, 1).astype(np.float64)
    return (1.0 / (per_label * max(len(label_lengths), 1))).astype(dtype)


def _reduce(
    losses: FloatArray, problem: _Problem, reduction: Reduction, out: FloatArray | None
) -> Any:
    """Applies the reduction (in float64) and places the result in ``out`` if given."""
    if reduction == "none":
        if out is None or out is losses:
            return losses
        out[...] = losses
        return out
    if reduction == "sum":
        value = float(np.sum(losses, dtype=np.float64))
    elif problem.batch_size == 0:
        value = float("nan")  # the mean of nothing, as in PyTorch
    else:
        per_label = losses.astype(np.float64) / np.maximum(problem.label_lengths, 1)
        value = float(np.mean(per_label))
    if out is None:
        return problem.dtype.type(value)
    out[()] = value
    return out


# --- normalising and checking arguments -----------------------------------------------


def _prepare(
    inputs: npt.ArrayLike,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    blank: int,
    layout: Layout,
    num_threads: int | None,
) -> _Problem:
    array, inputs_tnc = _as_inputs(inputs, layout)
    targets = _prepare_targets(inputs_tnc.shape, labels, input_lengths, label_lengths, blank)
    return _Problem(
        inputs=array,
        layout=layout,
        inputs_tnc=inputs_tnc,
        labels=targets.labels,
        input_lengths=targets.input_lengths,
        label_lengths=targets.label_lengths,
        blank=targets.blank,
        num_threads=_check_num_threads(num_threads),
    )


def _prepare_targets(
    shape_tnc: tuple[int, ...],
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    blank: int,
) -> _Targets:
    """Checks and normalises everything but the inputs, given their (T, N, C) shape."""
    blank_index = _check_blank(blank, shape_tnc[2])
    packed = _packed_targets(shape_tnc, labels, input_lengths, label_lengths, blank_index)
    if packed is not None:
        return packed
    return _checked_targets(shape_tnc, labels, input_lengths, label_lengths, blank_index)


def _checked_targets(
    shape_tnc: tuple[int, ...],
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    blank: int,
) -> _Targets:
    """The general path of _prepare_targets(): any kind of argument, checked step by
    step, and the one place that names what is wrong with it."""
    max_time, batch_size, num_classes = shape_tnc
    flat_labels, lengths = _as_labels(labels, label_lengths, batch_size)
    _check_label_values(flat_labels, lengths, labels, num_classes, blank)
    return _Targets(
        labels=flat_labels.astype(np.int32),
        input_lengths=_as_lengths(
            "input_lengths", input_lengths, batch_size, default=max_time, upper=("T", max_time)
        ),
        label_lengths=lengths,
        blank=blank,
    )


_PACKED_LABELS = (np.dtype(np.int32), np.dtype(np.int64))
_PACKED_LENGTHS = np.dtype(np.int64)


def _packed_targets(
    shape_tnc: tuple[int, ...],
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    blank: int,
) -> _Targets | None:
    """The usual arguments' targets, checked and packed in one compiled pass
    (_targets.pyx): NumPy int32 or int64 labels, padded or (with label_lengths)
    concatenated, and int64 lengths or none. None for any other kind of argument
    and for any value out of range, which the general path then names."""
    max_time, batch_size, num_classes = shape_tnc
    if not isinstance(labels, np.ndarray) or labels.dtype not in _PACKED_LABELS:
        return None
    for lengths in (input_lengths, label_lengths):
        if lengths is not None and not (
            isinstance(lengths, np.ndarray)
            and lengths.dtype == _PACKED_LENGTHS
            and lengths.ndim == 1
        ):
            return None
    if labels.ndim == 2:
        rows, concatenated = labels, False
    elif labels.ndim == 1 and label_lengths is not None:
        rows, concatenated = labels[np.newaxis], True
    else:
        return None
    packed = _targets.pack_targets(
        rows,
        concatenated,
        cast("npt.NDArray[np.int64] | None", label_lengths),  # as the loop found them
        cast("npt.NDArray[np.int64] | None", input_lengths),
        batch_size,
        max_time,
        num_classes,
        blank,
    )
    if packed is None:
        return None
    flat_labels, checked_input_lengths, checked_label_lengths = packed
    return _Targets(flat_labels, checked_input_lengths, checked_label_lengths, blank)


def _as_inputs(inputs: npt.ArrayLike, layout: str) -> tuple[FloatArray, FloatArray]:
    """The inputs as a native-endian aligned float array, and its (T, N, C) view."""
    array = np.asarray(inputs)
    _check_inputs(array.dtype, array.shape, layout)
    if not array.dtype.isnative or not _addressable(array):
        array = array.astype(array.dtype.newbyteorder("="))  # the only copy we ever make
    return array, _tnc_view(array, layout)


def _check_inputs(
    dtype: np.dtype[Any], shape: tuple[int, ...], layout: str
) -> tuple[int, int, int]:
    """Checks the inputs' layout, dtype and shape from their metadata; returns (T, N, C)."""
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {_LAYOUTS}, but got {layout!r}")
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        raise TypeError(f"inputs must be float32 or float64, but got dtype {dtype}")
    if len(shape) != 3:
        raise ValueError(
            f"Expected inputs to be 3-D ({', '.join(layout)}) for layout={layout!r}, but got "
            f"{len(shape)}-D with shape {shape}"
        )
    max_time, batch_size, num_classes = shape if layout == "TNC" else (shape[1], shape[0], shape[2])
    if not 1 <= num_classes <= _INT32_MAX:
        raise ValueError(
            f"Expected inputs to have between 1 and {_INT32_MAX} classes (the last axis), "
            f"but got C={num_classes}"
        )
    return max_time, batch_size, num_classes


def _as_integers(name: str, values: npt.ArrayLike) -> npt.NDArray[np.integer[Any]]:
    array = np.asarray(values)
    if array.size == 0 and array.dtype.kind == "f":
        return array.astype(np.int64)  # an empty list arrives as float64
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, but got dtype {array.dtype}")
    return array


def _as_lengths(
    name: str,
    values: npt.ArrayLike | None,
    batch_size: int,
    *,
    default: int,
    upper: tuple[str, int] | None = None,
) -> npt.NDArray[np.int64]:
    """Checks N lengths: integers, not negative, at most upper=(name, bound)."""
    if values is None:
        return np.full(batch_size, default, dtype=np.int64)
    array = _as_integers(name, values)
    if array.shape != (batch_size,):
        raise ValueError(
            f"Expected {name} to have N={batch_size} entries (one per sequence), but got "
            f"shape {array.shape}"
        )
    negative = np.flatnonzero(array < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"{name}[{i}] = {array[i]} is negative")
    if upper is not None:
        bound_name, bound = upper
        too_long = np.flatnonzero(array > bound)
        if too_long.size:
            i = int(too_long[0])
            raise ValueError(
                f"Expected {name}[{i}] to be at most {bound_name}={bound}, but got {array[i]}"
            )
    return array.astype(np.int64)


def _as_labels(
    labels: LabelsLike, label_lengths: npt.ArrayLike | None, batch_size: int
) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.int64]]:
    """All label sequences concatenated (values unchecked), and their lengths."""
    if isinstance(labels, (list, tuple)):
        return _labels_from_sequences(labels, label_lengths, batch_size)
    array = _as_integers("labels", cast(npt.ArrayLike, labels))
    if array.ndim == 2:
        if array.shape[0] != batch_size:
            raise ValueError(
                f"Expected padded labels of shape (N={batch_size}, S), but got shape {array.shape}"
            )
        width = array.shape[1]
        if label_lengths is None:  # every row whole
            return array.reshape(-1), np.full(batch_size, width, dtype=np.int64)
        lengths = _as_lengths(
            "label_lengths",
            label_lengths,
            batch_size,
            default=width,
            upper=("the padded label width S", width),
        )
        used = np.arange(width) < lengths[:, None]
        return array[used], lengths
    if array.ndim == 1:
        if label_lengths is None:
            if batch_size != 1:
                raise ValueError(
                    "label_lengths is required with 1-D concatenated labels when N > 1 "
                    f"(got N={batch_size})"
                )
            label_lengths = [array.shape[0]]
        lengths = _as_lengths("label_lengths", label_lengths, batch_size, default=0)
        total = int(lengths.sum())
        if total != array.shape[0]:
            raise ValueError(
                f"label_lengths add up to {total}, but the concatenated labels have "
                f"{array.shape[0]} entries"
            )
        return array, lengths
    raise ValueError(
        "Expected labels to be a padded 2-D array, a 1-D concatenation, or a list of 1-D "
        f"sequences, but got a {array.ndim}-D array with shape {array.shape}"
    )


def _labels_from_sequences(
    labels: Sequence[npt.ArrayLike], label_lengths: npt.ArrayLike | None, batch_size: int
) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.int64]]:
    if len(labels) != batch_size:
        raise ValueError(
            f"Expected one label sequence per batch item (N={batch_size}), but got {len(labels)}"
        )
    sequences = [_as_integers(f"labels[{n}]", sequence) for n, sequence in enumerate(labels)]
    for n, sequence in enumerate(sequences):
        if sequence.ndim != 1:
            raise ValueError(
                f"Expected labels[{n}] to be a 1-D sequence, but got shape {sequence.shape}"
            )
    lengths = np.array([sequence.shape[0] for sequence in sequences], dtype=np.int64)
    if label_lengths is not None:
        given = _as_lengths("label_lengths", label_lengths, batch_size, default=0)
        mismatch = np.flatnonzero(given != lengths)
        if mismatch.size:
            n = int(mismatch[0])
            raise ValueError(
                f"label_lengths[{n}] = {given[n]} does not match len(labels[{n}]) = {lengths[n]}"
            )
    flat = np.concatenate(sequences) if sequences else np.empty(0, np.int64)
    return flat, lengths


def _check_label_values(
    flat: npt.NDArray[np.integer[Any]],
    lengths: npt.NDArray[np.int64],
    labels: LabelsLike,
    num_classes: int,
    blank: int,
) -> None:
    """Every used label is a class in [0, C) and not the blank."""
    if flat.size == 0:
        return
    lowest, highest = int(flat.min()), int(flat.max())
    if lowest >= 0 and highest < num_classes and not lowest <= blank <= highest:
        return  # the usual case, told by two reductions
    bad = np.flatnonzero((flat < 0) | (flat >= num_classes) | (flat == blank))
    if not bad.size:
        return
    i = int(bad[0])
    value = int(flat[i])
    where = _label_position(i, lengths, labels)
    if value == blank:
        raise ValueError(
            f"labels{where} = {value} is the blank class (blank={blank}); a label cannot be blank"
        )
    raise ValueError(
        f"labels{where} = {value} is out of range for C={num_classes} classes "
        f"(expected 0 <= label < {num_classes})"
    )


def _label_position(flat_index: int, lengths: npt.NDArray[np.int64], labels: LabelsLike) -> str:
    """How the caller indexes the label at flat_index of the concatenation."""
    if not isinstance(labels, (list, tuple)) and np.ndim(cast(npt.ArrayLike, labels)) == 1:
        return f"[{flat_index}]"
    ends = np.cumsum(lengths)
    n = int(np.searchsorted(ends, flat_index, side="right"))
    j = flat_index - int(ends[n] - lengths[n])
    return f"[{n}][{j}]" if isinstance(labels, (list, tuple)) else f"[{n}, {j}]"


def _check_blank(blank: int, num_classes: int) -> int:
    if isinstance(blank, (bool, np.bool_)):
        raise TypeError(f"blank must be an integer class index, but got {blank!r}")
    try:
        index = operator.index(blank)
    except TypeError:
        raise TypeError(f"blank must be an integer class index, but got {blank!r}") from None
    if not -num_classes <= index < num_classes:
        raise ValueError(
            f"blank={index} is out of range for C={num_classes} classes "
            f"(expected {-num_classes} <= blank < {num_classes})"
        )
    return index % num_classes


def _check_num_threads(num_threads: int | None) -> int:
    """The thread count for the core: 0 for OpenMP's default, 1 in a forked child."""
    count = _checked_thread_count(num_threads)
    if _OpenMPState.forked_after_threads:
        return 1
    if count != 1:
        _OpenMPState.threads_started = True
    return count


def _checked_thread_count(num_threads: int | None) -> int:
    return 0 if num_threads is None else _positive_int32("num_threads", num_threads)


def _positive_int32(name: str, value: Any) -> int:
    """A count argument: an integer in [1, 2**31 - 1]."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, but got {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, but got {value!r}") from None
    if not 1 <= count <= _INT32_MAX:
        raise ValueError(f"{name} must be at least 1, but got {count}")
    return count


def _check_outputs(
    problem: _Problem, reduction: str, out: FloatArray | None, grad_out: FloatArray | None
) -> None:
    """Checks the reduction and the given output arrays against the problem."""
    _check_reduction(reduction)
    _check_out(out, "out", _loss_shape(problem, reduction), problem.dtype)
    _check_out(grad_out, "grad_out", problem.inputs.shape, problem.dtype)
    _check_no_overlap(problem, out, grad_out)


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, but got {reduction!r}")


def _loss_shape(problem: _Problem, reduction: str) -> tuple[int, ...]:
    return (problem.batch_size,) if reduction == "none" else ()


def _check_out(
    array: FloatArray | None, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> None:
    if array is None:
        return
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, but got {type(array).__name__}")
    if array.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} like inputs, but got {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"Expected {name} to have shape {shape}, but got {array.shape}")
    if not array.flags.writeable:
        raise ValueError(f"{name} is read-only; it must be writable")
    if not _addressable(array):
        raise ValueError(
            f"{name} is not aligned: its address and strides {array.strides} must be "
            f"multiples of {dtype.itemsize} bytes"
        )


def _check_no_overlap(
    problem: _Problem, out: FloatArray | None, grad_out: FloatArray | None
) -> None:
    if grad_out is None:
        return
    if np.may_share_memory(grad_out, problem.inputs):
        raise ValueError("grad_out must not share memory with inputs")
    if out is not None and np.may_share_memory(grad_out, out):
        raise ValueError("grad_out must not share memory with out")
    if grad_out.size and 0 in grad_out.strides:
        raise ValueError(f"grad_out must not have zero strides, but got strides {grad_out.strides}")


def _addressable(array: FloatArray) -> bool:
    """Whether the core can address the array in whole elements: an aligned address, and
    strides that are multiples of the item size (NumPy's alignment of float64 is only 4
    bytes on some 32-bit platforms)."""
    itemsize = array.dtype.itemsize
    if array.dtype.alignment == itemsize and array.size:  # then NumPy's flag checks strides
        return bool(array.flags.aligned)
    strides_ok = all(s % itemsize == 0 for s, n in zip(array.strides, array.shape) if n > 1)
    return bool(array.flags.aligned) and strides_ok


def _tnc_view(array: FloatArray, layout: str) -> FloatArray:
    """The (T, N, C)-indexed view of an array in the caller's layout; never a copy."""
    return array if layout == "TNC" else array.transpose(1, 0, 2)
