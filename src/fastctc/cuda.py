"""fastctc on the GPU: the CTC loss and its exact gradient on device arrays.

The functions of :mod:`fastctc` with the same arguments, checks and results, computed by
the CUDA kernels of ``cpp/src/cuda/`` (the C API ``fastctc/ctc_cuda.h``). This module needs
fastctc built with its CUDA unit, and PyTorch (a CUDA build) or CuPy to hold device memory.

Arrays:

- PyTorch CUDA tensors and CuPy arrays are read in place, with any strides, never copied;
  results are arrays of the same kind on the same device.
- Any other object with ``__dlpack__`` or ``__cuda_array_interface__`` is viewed without a
  copy through CuPy (or PyTorch when CuPy is missing); results are arrays of that kind.
- NumPy arrays (and other host arrays) need ``device=``, the GPU index: they are copied to
  that GPU and the results back, as NumPy arrays, like :func:`fastctc.ctc_loss` returns.

Every argument is checked before any GPU work, with the messages of :mod:`fastctc`.
Labels and lengths are checked on the host: given as host arrays (lists, NumPy arrays, CPU
tensors), nothing waits for the GPU; device-resident ones are first copied to the host,
which waits for the work queued before them.

The kernels run on the current stream of the inputs' framework for their device
(``torch.cuda.current_stream(device)``, CuPy's current stream), and the call returns
without waiting for them. Results are bit-identical from run to run.
"""

from __future__ import annotations

import importlib
import operator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from fastctc import _api
from fastctc._api import LabelsLike, Layout, Reduction

_NOT_BUILT = (
    "fastctc.cuda needs fastctc built with its CUDA unit, and this installation was built "
    "without it. Rebuild it from a source checkout with the CUDA toolkit's nvcc on PATH (a GPU "
    "is not needed to build):\n    pip install -C cmake.define.FASTCTC_CUDA=ON .\n"
    "See the GPU section of README.md."
)

try:
    from fastctc import _ctc_cuda
except ImportError as error:  # the CPU build: no _ctc_cuda extension module
    raise ImportError(_NOT_BUILT) from error

__all__ = ["ctc_loss", "ctc_loss_and_grad", "workspace_size"]

_DLPACK_CUDA_DEVICES = (2, 13)  # kDLCUDA, kDLCUDAManaged


def ctc_loss(
    inputs: Any,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    reduction: Reduction = "none",
    zero_infinity: bool = False,
    device: int | None = None,
    out: Any = None,
) -> Any:
    """The CTC loss of each sequence of a batch, on the GPU.

    Takes the arguments of :func:`fastctc.ctc_loss` (``num_threads`` aside), plus
    ``device``: the GPU index for host (NumPy) inputs, which are copied there and the
    results back; for device inputs it may be omitted, or must name their device.
    ``out`` is an array of the same kind as the results, written in place and returned.

    Returns
    -------
    The (N,) losses for ``reduction="none"``, else a 0-d array, of the inputs' dtype and
    kind (a CUDA tensor for a CUDA tensor, a NumPy array for NumPy inputs, ...).
    """
    loss, _ = _run(
        inputs,
        labels,
        input_lengths,
        label_lengths,
        blank=blank,
        layout=layout,
        log_probs=log_probs,
        reduction=reduction,
        zero_infinity=zero_infinity,
        device=device,
        out=out,
        grad_out=None,
        with_grad=False,
    )
    return loss


def ctc_loss_and_grad(
    inputs: Any,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    log_probs: bool = False,
    reduction: Reduction = "none",
    zero_infinity: bool = False,
    device: int | None = None,
    out: Any = None,
    grad_out: Any = None,
) -> tuple[Any, Any]:
    """The CTC loss and its exact gradient with respect to ``inputs``, on the GPU.

    Takes the arguments of :func:`ctc_loss`, plus ``grad_out``: an array of the inputs'
    shape, dtype and kind (any strides, not overlapping ``inputs``), written in place and
    returned. The gradient follows the conventions of :func:`fastctc.ctc_loss_and_grad`.

    Returns
    -------
    (loss, grad), arrays of the inputs' kind.
    """
    loss, grad = _run(
        inputs,
        labels,
        input_lengths,
        label_lengths,
        blank=blank,
        layout=layout,
        log_probs=log_probs,
        reduction=reduction,
        zero_infinity=zero_infinity,
        device=device,
        out=out,
        grad_out=grad_out,
        with_grad=True,
    )
    return loss, grad


def workspace_size(
    inputs: Any,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None = None,
    label_lengths: npt.ArrayLike | None = None,
    *,
    blank: int = 0,
    layout: Layout = "TNC",
    with_grad: bool = True,
) -> int:
    """Bytes of GPU scratch memory a call with these arguments allocates.

    About N x T x (2 x longest label + 1) doubles with the gradient (the whole lattice),
    two lattice rows per sequence without it; outputs are not included. ``inputs`` may be
    a device or a host array: only its shape and dtype are read.
    """
    if _is_device_array(inputs):
        _, view = _device_view(inputs, "inputs")
        dtype, shape = view.dtype, view.shape
    else:
        array = np.asarray(inputs)
        dtype, shape = array.dtype, array.shape
    shape_tnc = _api._check_inputs(dtype, shape, layout)
    targets = _api._prepare_targets(
        shape_tnc, _host(labels), _host(input_lengths), _host(label_lengths), blank
    )
    return _workspace_bytes(shape_tnc, targets, with_grad)


# --- device arrays ---------------------------------------------------------------------


@dataclass(frozen=True)
class _DeviceArray:
    """A framework's device array, and what the kernels need to know of it."""

    array: Any  # a torch.Tensor or a cupy.ndarray
    pointer: int  # the address of element (0, ..., 0)
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in elements
    dtype: np.dtype[Any]
    device: int

    @property
    def contiguous(self) -> bool:
        expected = 1
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def byte_range(self) -> tuple[int, int]:
        """The first byte and one past the last byte it can touch (empty: equal)."""
        if 0 in self.shape:
            return self.pointer, self.pointer
        low = high = self.pointer
        for size, stride in zip(self.shape, self.strides):
            span = (size - 1) * stride * self.dtype.itemsize
            low, high = (low + span, high) if span < 0 else (low, high + span)
        return low, high + self.dtype.itemsize

    def may_overlap(self, other: _DeviceArray) -> bool:
        (low, high), (other_low, other_high) = self.byte_range(), other.byte_range()
        return self.device == other.device and low < other_high and other_low < high


class _Backend(Protocol):
    """What fastctc.cuda needs of a framework that owns device memory."""

    name: str

    def owns(self, obj: Any) -> bool: ...
    def wrap(self, array: Any, name: str) -> _DeviceArray: ...
    def pointer(self, array: Any) -> int: ...
    def adopt(self, obj: Any) -> Any: ...
    def empty(self, shape: tuple[int, ...], dtype: np.dtype[Any], device: int) -> Any: ...
    def stream(self, device: int) -> int: ...
    def to_host(self, array: Any) -> npt.NDArray[Any]: ...
    def upload(self, host: npt.NDArray[Any], device: int) -> Any: ...
    def int64_view(self, buffer: Any, offset: int, count: int) -> Any: ...
    def reduce(self, losses: Any, label_lengths: Any, reduction: Reduction) -> Any: ...
    def copy(self, destination: Any, source: Any) -> None: ...


class _Torch:
    name = "PyTorch"

    def __init__(self) -> None:
        self.torch: Any = importlib.import_module("torch")
        torch = self.torch
        self.to_numpy: dict[Any, np.dtype[Any]] = {
            torch.float16: np.dtype(np.float16),
            torch.float32: np.dtype(np.float32),
            torch.float64: np.dtype(np.float64),
        }
        self.from_numpy = {dtype: torch_dtype for torch_dtype, dtype in self.to_numpy.items()}
        self.from_numpy[np.dtype(np.uint8)] = torch.uint8

    def owns(self, obj: Any) -> bool:
        return isinstance(obj, self.torch.Tensor)

    def wrap(self, array: Any, name: str) -> _DeviceArray:
        if array.dtype not in self.to_numpy:
            raise TypeError(f"{name} must be float32 or float64, but got dtype {array.dtype}")
        return _DeviceArray(
            array,
            int(array.data_ptr()),
            tuple(array.shape),
            tuple(array.stride()),
            self.to_numpy[array.dtype],
            int(array.device.index),
        )

    def pointer(self, array: Any) -> int:
        return int(array.data_ptr())

    def adopt(self, obj: Any) -> Any:
        if hasattr(obj, "__dlpack__"):
            return self.torch.from_dlpack(obj)
        return self.torch.as_tensor(obj, device="cuda")  # __cuda_array_interface__, no copy

    def empty(self, shape: tuple[int, ...], dtype: np.dtype[Any], device: int) -> Any:
        return self.torch.empty(
            shape, dtype=self.from_numpy[np.dtype(dtype)], device=self._device(device)
        )

    def stream(self, device: int) -> int:
        return int(self.torch.cuda.current_stream(device).cuda_stream)

    def to_host(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(array.detach().cpu().numpy())

    def upload(self, host: npt.NDArray[Any], device: int) -> Any:
        # From pinned memory, the copy is queued on the current stream and the host
        # goes on; PyTorch keeps the pinned block until the copy is done.
        pinned = self.torch.empty(host.shape, dtype=self.from_numpy[host.dtype], pin_memory=True)
        pinned.numpy()[...] = host
        return pinned.to(self._device(device), non_blocking=True)

    def int64_view(self, buffer: Any, offset: int, count: int) -> Any:
        return buffer[offset : offset + 8 * count].view(self.torch.int64)

    def reduce(self, losses: Any, label_lengths: Any, reduction: Reduction) -> Any:
        values = losses.to(self.torch.float64)
        if reduction == "sum":
            total = values.sum()
        elif values.numel() == 0:
            total = self.torch.full((), float("nan"), dtype=values.dtype, device=values.device)
        else:
            total = (values / label_lengths.clamp(min=1)).mean()
        return total.to(losses.dtype)

    def copy(self, destination: Any, source: Any) -> None:
        destination.copy_(source)

    def _device(self, index: int) -> Any:
        return self.torch.device("cuda", index)


class _CuPy:
    name = "CuPy"

    def __init__(self) -> None:
        self.cupy: Any = importlib.import_module("cupy")

    def owns(self, obj: Any) -> bool:
        return isinstance(obj, self.cupy.ndarray)

    def wrap(self, array: Any, name: str) -> _DeviceArray:
        itemsize = array.dtype.itemsize
        return _DeviceArray(
            array,
            int(array.data.ptr),
            tuple(array.shape),
            tuple(stride // itemsize for stride in array.strides),
            np.dtype(array.dtype),
            int(array.device.id),
        )

    def pointer(self, array: Any) -> int:
        return int(array.data.ptr)

    def adopt(self, obj: Any) -> Any:
        if hasattr(obj, "__dlpack__"):
            return self.cupy.from_dlpack(obj)
        return self.cupy.asarray(obj)  # __cuda_array_interface__, no copy

    def empty(self, shape: tuple[int, ...], dtype: np.dtype[Any], device: int) -> Any:
        with self.cupy.cuda.Device(device):
            return self.cupy.empty(shape, dtype)

    def stream(self, device: int) -> int:
        with self.cupy.cuda.Device(device):
            return int(self.cupy.cuda.get_current_stream().ptr)

    def to_host(self, array: Any) -> npt.NDArray[Any]:
        return np.asarray(self.cupy.asnumpy(array))

    def upload(self, host: npt.NDArray[Any], device: int) -> Any:
        with self.cupy.cuda.Device(device):
            return self.cupy.asarray(host)  # queued on the current stream (blocking=False)

    def int64_view(self, buffer: Any, offset: int, count: int) -> Any:
        return buffer[offset : offset + 8 * count].view(self.cupy.int64)

    def reduce(self, losses: Any, label_lengths: Any, reduction: Reduction) -> Any:
        cupy = self.cupy
        with losses.device:
            values = losses.astype(cupy.float64)
            if reduction == "sum":
                total = values.sum()
            elif values.size == 0:
                total = cupy.full((), cupy.nan)
            else:
                total = (values / cupy.maximum(label_lengths, 1)).mean()
            return total.astype(losses.dtype)

    def copy(self, destination: Any, source: Any) -> None:
        self.cupy.copyto(destination, source)


def _load(backend: type[_Torch] | type[_CuPy]) -> _Backend | None:
    try:
        return backend()
    except ImportError:
        return None


def _is_device_array(obj: Any) -> bool:
    if type(obj).__module__.split(".")[0] == "torch":  # before the interface, which a
        return bool(getattr(obj, "is_cuda", False))  # tensor that requires grad refuses
    if hasattr(obj, "__cuda_array_interface__"):  # CuPy, Numba, ...
        return True
    if hasattr(obj, "__dlpack_device__"):
        return int(obj.__dlpack_device__()[0]) in _DLPACK_CUDA_DEVICES
    return False


def _device_array(obj: Any, name: str) -> tuple[_Backend, Any]:
    """The backend that holds a device array, and the array as its own (never a copy)."""
    module = type(obj).__module__.split(".")[0]
    if module in ("torch", "cupy"):
        backend = _load(_Torch if module == "torch" else _CuPy)
        assert backend is not None  # its own module made obj
        return backend, obj
    for candidate in (_CuPy, _Torch):
        backend = _load(candidate)
        if backend is not None:
            return backend, backend.adopt(obj)
    raise TypeError(
        f"{name} is a device array of type {type(obj).__name__}; fastctc.cuda reads it "
        "through CuPy or PyTorch, and neither is installed"
    )


def _device_view(obj: Any, name: str) -> tuple[_Backend, _DeviceArray]:
    backend, array = _device_array(obj, name)
    return backend, backend.wrap(array, name)


def _host(values: Any) -> Any:
    """Labels or lengths with any device-resident arrays copied to the host."""
    if isinstance(values, (list, tuple)):
        return type(values)(_host(value) for value in values)
    if _is_device_array(values):
        backend, array = _device_array(values, "labels and lengths")
        return backend.to_host(array)
    return values


def _host_backend() -> _Backend:
    """The framework that holds device memory for host inputs: CuPy, else PyTorch."""
    for candidate in (_CuPy, _Torch):
        backend = _load(candidate)
        if backend is not None and (backend.name != "PyTorch" or _torch_has_cuda(backend)):
            return backend
    raise RuntimeError(
        "fastctc.cuda needs CuPy or a CUDA build of PyTorch to hold device memory for host "
        "inputs, and neither is available"
    )


def _torch_has_cuda(backend: _Backend) -> bool:
    return isinstance(backend, _Torch) and bool(backend.torch.cuda.is_available())


# --- running the kernels ---------------------------------------------------------------


def _run(
    inputs: Any,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    *,
    blank: int,
    layout: Layout,
    log_probs: bool,
    reduction: Reduction,
    zero_infinity: bool,
    device: int | None,
    out: Any,
    grad_out: Any,
    with_grad: bool,
) -> tuple[Any, Any]:
    options = _Options(bool(log_probs), bool(zero_infinity), reduction)
    if not _is_device_array(inputs):
        return _run_host(
            inputs, labels, input_lengths, label_lengths, blank, layout, options, device, out,
            grad_out, with_grad,
        )  # fmt: skip
    backend, view = _device_view(inputs, "inputs")
    if device is not None and _check_device(device) != view.device:
        raise ValueError(f"inputs are on GPU {view.device}, but device={device}")
    shape_tnc = _api._check_inputs(view.dtype, view.shape, layout)
    targets = _api._prepare_targets(
        shape_tnc, _host(labels), _host(input_lengths), _host(label_lengths), blank
    )
    _api._check_reduction(reduction)
    loss_shape = (shape_tnc[1],) if reduction == "none" else ()
    out_view = _check_device_out(backend, out, "out", loss_shape, view)
    grad_view = _check_device_out(backend, grad_out, "grad_out", view.shape, view)
    if grad_view is not None:
        if grad_view.may_overlap(view):
            raise ValueError("grad_out must not share memory with inputs")
        if out_view is not None and grad_view.may_overlap(out_view):
            raise ValueError("grad_out must not share memory with out")
        if 0 in grad_view.strides and 0 not in grad_view.shape:
            raise ValueError(
                f"grad_out must not have zero strides, but got strides {grad_view.strides}"
            )
    if out_view is not None and out_view.may_overlap(view):
        raise ValueError("out must not share memory with inputs")

    # Every check passed: from here on, GPU work.
    if with_grad and grad_view is None:
        grad_view = backend.wrap(backend.empty(view.shape, view.dtype, view.device), "grad")
    direct = reduction == "none" and out_view is not None and out_view.contiguous
    losses = out_view if direct and out_view is not None else _empty_losses(backend, view, layout)
    uploaded = _launch(backend, view, layout, targets, options, losses, grad_view)
    if reduction == "none":
        if out is None or direct:
            return losses.array, None if grad_view is None else grad_view.array
        backend.copy(out, losses.array)
        return out, None if grad_view is None else grad_view.array
    lengths = backend.int64_view(uploaded.buffer, uploaded.label_lengths, shape_tnc[1])
    total = backend.reduce(losses.array, lengths, reduction)
    if out is not None:
        backend.copy(out, total)
        total = out
    return total, None if grad_view is None else grad_view.array


def _run_host(
    inputs: Any,
    labels: LabelsLike,
    input_lengths: npt.ArrayLike | None,
    label_lengths: npt.ArrayLike | None,
    blank: int,
    layout: Layout,
    options: _Options,
    device: int | None,
    out: Any,
    grad_out: Any,
    with_grad: bool,
) -> tuple[Any, Any]:
    """Host inputs: checked like fastctc's, copied to the GPU, the results copied back."""
    if device is None:
        raise ValueError(
            "inputs are a host array: pass device=<GPU index> to copy them to that GPU and "
            "the results back, or call fastctc.ctc_loss to compute on the CPU"
        )
    index = _check_device(device)
    problem = _api._prepare(
        inputs, _host(labels), _host(input_lengths), _host(label_lengths), blank, layout, None
    )
    _api._check_outputs(problem, options.reduction, out, grad_out)

    # Every check passed: from here on, GPU work.
    backend = _host_backend()
    view = backend.wrap(backend.upload(np.ascontiguousarray(problem.inputs), index), "inputs")
    grad = backend.wrap(backend.empty(view.shape, view.dtype, index), "grad") if with_grad else None
    losses = _empty_losses(backend, view, layout)
    targets = _api._Targets(
        problem.labels, problem.input_lengths, problem.label_lengths, problem.blank
    )
    _launch(backend, view, layout, targets, options, losses, grad)
    loss = _api._reduce(backend.to_host(losses.array), problem, options.reduction, out)
    if grad is None:
        return loss, None
    if grad_out is None:
        return loss, backend.to_host(grad.array)
    grad_out[...] = backend.to_host(grad.array)
    return loss, grad_out


@dataclass(frozen=True)
class _Options:
    log_probs: bool
    zero_infinity: bool
    reduction: Reduction


@dataclass(frozen=True)
class _Uploaded:
    """The labels, lengths and gradient scale, packed into one device buffer."""

    buffer: Any
    pointer: int
    grad_scale: int | None  # byte offsets into buffer
    input_lengths: int
    label_lengths: int
    labels: int


def _launch(
    backend: _Backend,
    inputs: _DeviceArray,
    layout: Layout,
    targets: _api._Targets,
    options: _Options,
    losses: _DeviceArray,
    grad: _DeviceArray | None,
) -> _Uploaded:
    """Uploads the targets and queues the kernels; returns the upload, for the reduction."""
    shape_tnc = _tnc(inputs.shape, layout)
    max_time, batch_size, num_classes = shape_tnc
    scale = _api._grad_scale(targets.label_lengths, inputs.dtype, options.reduction)
    uploaded = _upload(backend, inputs.device, targets, scale)
    workspace_bytes = _workspace_bytes(shape_tnc, targets, grad is not None)
    workspace = backend.empty((workspace_bytes,), np.dtype(np.uint8), inputs.device)
    _ctc_cuda.ctc_loss(
        device=inputs.device,
        stream=backend.stream(inputs.device),
        double=bool(inputs.dtype == np.float64),
        inputs=inputs.pointer,
        input_strides=_tnc(inputs.strides, layout),
        max_time=max_time,
        batch_size=batch_size,
        num_classes=num_classes,
        max_label_length=_max_label_length(targets),
        input_lengths=uploaded.pointer + uploaded.input_lengths,
        label_lengths=uploaded.pointer + uploaded.label_lengths,
        labels=uploaded.pointer + uploaded.labels,
        blank=targets.blank,
        log_probs=options.log_probs,
        zero_infinity=options.zero_infinity,
        losses=losses.pointer,
        grad=0 if grad is None else grad.pointer,
        grad_strides=(0, 0, 0) if grad is None else _tnc(grad.strides, layout),
        grad_scale=0 if uploaded.grad_scale is None else uploaded.pointer + uploaded.grad_scale,
        workspace=backend.pointer(workspace),
        workspace_bytes=workspace_bytes,
    )
    return uploaded


def _upload(
    backend: _Backend,
    device: int,
    targets: _api._Targets,
    grad_scale: npt.NDArray[Any] | None,
) -> _Uploaded:
    """One host-to-device copy of everything small: fewer copies, less latency."""
    parts: list[npt.NDArray[Any]] = [targets.input_lengths, targets.label_lengths, targets.labels]
    if grad_scale is not None:
        parts.append(grad_scale)
    offsets, size = [], 0
    for part in parts:
        offsets.append(size)
        size += -(-part.nbytes // 8) * 8  # each part 8-byte aligned
    packed = np.zeros(max(size, 8), np.uint8)
    for part, offset in zip(parts, offsets):
        packed[offset : offset + part.nbytes] = np.ascontiguousarray(part).view(np.uint8)
    buffer = backend.upload(packed, device)
    return _Uploaded(
        buffer=buffer,
        pointer=backend.pointer(buffer),
        grad_scale=offsets[3] if grad_scale is not None else None,
        input_lengths=offsets[0],
        label_lengths=offsets[1],
        labels=offsets[2],
    )


def _empty_losses(backend: _Backend, inputs: _DeviceArray, layout: Layout) -> _DeviceArray:
    batch_size = _tnc(inputs.shape, layout)[1]
    return backend.wrap(backend.empty((batch_size,), inputs.dtype, inputs.device), "losses")


def _workspace_bytes(
    shape_tnc: tuple[int, int, int], targets: _api._Targets, with_grad: bool
) -> int:
    max_time, batch_size, num_classes = shape_tnc
    return _ctc_cuda.workspace_size(
        max_time, batch_size, num_classes, _max_label_length(targets), with_grad=with_grad
    )


def _max_label_length(targets: _api._Targets) -> int:
    return int(targets.label_lengths.max()) if targets.label_lengths.size else 0


def _check_device_out(
    backend: _Backend, array: Any, name: str, shape: tuple[int, ...], inputs: _DeviceArray
) -> _DeviceArray | None:
    if array is None:
        return None
    if not backend.owns(array) or not _is_device_array(array):
        raise TypeError(
            f"{name} must be a {backend.name} GPU array like the inputs, but got "
            f"{type(array).__name__}"
        )
    view = backend.wrap(array, name)
    if view.device != inputs.device:
        raise ValueError(
            f"{name} must be on GPU {inputs.device} like inputs, but is on GPU {view.device}"
        )
    if view.dtype != inputs.dtype:
        raise TypeError(f"{name} must have dtype {inputs.dtype} like inputs, but got {view.dtype}")
    if view.shape != shape:
        raise ValueError(f"Expected {name} to have shape {shape}, but got {view.shape}")
    return view


def _check_device(device: Any) -> int:
    if isinstance(device, (bool, np.bool_)):
        raise TypeError(f"device must be a GPU index, but got {device!r}")
    try:
        index = operator.index(device)
    except TypeError:
        raise TypeError(f"device must be a GPU index, but got {device!r}") from None
    if index < 0:
        raise ValueError(f"device must be a GPU index (>= 0), but got {index}")
    return index


def _tnc(values: tuple[int, ...], layout: Layout) -> tuple[int, int, int]:
    """(T, N, C)-ordered shape or strides from the caller's layout."""
    first, second, classes = values
    return (first, second, classes) if layout == "TNC" else (second, first, classes)
