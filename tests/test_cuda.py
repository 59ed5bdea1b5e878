"""fastctc.cuda: the GPU kernels against the CPU core, and the Python layer around them.

Three tiers, each skipped where it cannot run:
- without the CUDA build: importing fastctc.cuda raises an ImportError that says how to
  build it;
- with the CUDA build, no GPU needed: every argument check runs before any GPU work, with
  fastctc's messages, and the workspace query is pure host arithmetic;
- with a GPU and PyTorch (CUDA build) or CuPy: results equal the CPU core's (float64 to
  1e-12 relative, float32 to 1e-5), bit-identical from run to run, for every argument form.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from problems import Problem, random_problem
from test_bad_input import BAD_IDS, BAD_INPUTS, GRAD_BAD_INPUTS

import fastctc
from fastctc import reference

HAS_CUDA_BUILD = importlib.util.find_spec("fastctc._ctc_cuda") is not None
needs_cuda_build = pytest.mark.skipif(
    not HAS_CUDA_BUILD, reason="fastctc was built without FASTCTC_CUDA=ON"
)

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
LOG_PROBS = [pytest.param(False, id="logits"), pytest.param(True, id="log_probs")]


def _tolerances(dtype: type) -> dict[str, float]:
    """The agreement with the CPU core the issue asks for; the gradient's absolute floor
    covers entries that cancel to nearly 0."""
    if dtype == np.float64:
        return {"rtol": 1e-12, "atol": 1e-13}
    return {"rtol": 1e-5, "atol": 1e-7}


@pytest.mark.skipif(HAS_CUDA_BUILD, reason="this fastctc was built with its CUDA unit")
def test_import_without_the_cuda_build_says_how_to_build() -> None:
    with pytest.raises(ImportError, match=r"FASTCTC_CUDA=ON"):
        importlib.import_module("fastctc.cuda")


@pytest.fixture
def cuda() -> ModuleType:
    if not HAS_CUDA_BUILD:
        pytest.skip("fastctc was built without FASTCTC_CUDA=ON")
    return importlib.import_module("fastctc.cuda")


# --- checks before any GPU work (the CUDA build, no GPU needed) -------------------------

HOST_BAD_INPUTS = [
    (arguments, exception, pattern)
    for arguments, exception, pattern in BAD_INPUTS
    if "num_threads" not in arguments  # the GPU has no thread count
]
HOST_BAD_IDS = [
    identity
    for identity, (arguments, _, _) in zip(BAD_IDS, BAD_INPUTS)
    if "num_threads" not in arguments
]


@needs_cuda_build
@pytest.mark.parametrize(("arguments", "exception", "pattern"), HOST_BAD_INPUTS, ids=HOST_BAD_IDS)
@pytest.mark.parametrize("function", ["ctc_loss", "ctc_loss_and_grad"])
def test_bad_input_raises_as_on_the_cpu(
    cuda: ModuleType, arguments: dict[str, Any], exception: type, pattern: str, function: str
) -> None:
    with pytest.raises(exception, match=pattern):
        getattr(cuda, function)(**arguments, device=0)


@needs_cuda_build
@pytest.mark.parametrize(("arguments", "exception", "pattern"), GRAD_BAD_INPUTS)
def test_bad_grad_out_raises_as_on_the_cpu(
    cuda: ModuleType, arguments: dict[str, Any], exception: type, pattern: str
) -> None:
    with pytest.raises(exception, match=pattern):
        cuda.ctc_loss_and_grad(**arguments, device=0)


@needs_cuda_build
def test_host_inputs_need_a_device(cuda: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"pass device=<GPU index>"):
        cuda.ctc_loss(np.zeros((6, 3, 5)), [[1], [2], [3]])


@needs_cuda_build
@pytest.mark.parametrize(
    ("device", "exception", "pattern"),
    [
        (-1, ValueError, r"device must be a GPU index \(>= 0\), but got -1"),
        ("cuda", TypeError, r"device must be a GPU index, but got 'cuda'"),
        (True, TypeError, r"device must be a GPU index, but got True"),
    ],
)
def test_bad_device_raises(cuda: ModuleType, device: Any, exception: type, pattern: str) -> None:
    with pytest.raises(exception, match=pattern):
        cuda.ctc_loss(np.zeros((6, 3, 5)), [[1], [2], [3]], device=device)


@needs_cuda_build
def test_workspace_size_is_host_arithmetic(cuda: ModuleType, rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=150, batch=32, classes=28, max_label=40)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    with_grad = cuda.workspace_size(*args)
    loss_only = cuda.workspace_size(*args, with_grad=False)
    states = 2 * int(problem.label_lengths.max()) + 1
    assert with_grad >= 150 * 32 * states * 8  # the whole lattice, in doubles
    assert loss_only < with_grad
    longer = [np.concatenate([label, label]) for label in problem.labels]
    assert cuda.workspace_size(problem.inputs, longer, problem.input_lengths) > with_grad
    # The NTC layout describes the same batch.
    assert cuda.workspace_size(problem.inputs.transpose(1, 0, 2), *args[1:], layout="NTC") == (
        with_grad
    )


# --- on a GPU ---------------------------------------------------------------------------


class Frontend:
    """Moves NumPy arrays to and from one framework's GPU arrays."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            torch = pytest.importorskip("torch")
            if not torch.cuda.is_available():
                pytest.skip("PyTorch has no CUDA device")
            self.module = torch
        else:
            cupy = pytest.importorskip("cupy")
            try:
                count = cupy.cuda.runtime.getDeviceCount()
            except Exception:  # no driver
                count = 0
            if not count:
                pytest.skip("CuPy has no CUDA device")
            self.module = cupy

    def put(self, array: np.ndarray) -> Any:
        if self.name == "torch":
            return self.module.from_numpy(np.ascontiguousarray(array)).cuda()
        return self.module.asarray(array)

    def swap_time_and_batch(self, array: Any) -> Any:
        """A transposed view, no copy."""
        if self.name == "torch":
            return array.permute(1, 0, 2)
        return array.transpose(1, 0, 2)

    def get(self, array: Any) -> np.ndarray:
        if self.name == "torch":
            return np.asarray(array.cpu().numpy())
        return np.asarray(self.module.asnumpy(array))


@pytest.fixture(params=["torch", "cupy"])
def gpu(request: pytest.FixtureRequest, cuda: ModuleType) -> Frontend:
    return Frontend(request.param)


def _cpu_and_gpu(
    cuda: ModuleType, gpu: Frontend, problem: Problem, **options: Any
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    args = (problem.inputs, problem.labels, problem.input_lengths)
    want = fastctc.ctc_loss_and_grad(*args, blank=problem.blank, **options)
    loss, grad = cuda.ctc_loss_and_grad(
        gpu.put(problem.inputs), *args[1:], blank=problem.blank, **options
    )
    return (np.asarray(want[0]), want[1]), (gpu.get(loss), gpu.get(grad))


def _assert_matches(
    got: tuple[np.ndarray, np.ndarray],
    want: tuple[np.ndarray, np.ndarray],
    dtype: type,
    grad_atol: float | None = None,
) -> None:
    np.testing.assert_allclose(got[0], want[0], **_tolerances(dtype))
    tolerances = _tolerances(dtype)
    if grad_atol is not None:
        tolerances["atol"] = grad_atol
    np.testing.assert_allclose(got[1], want[1], **tolerances)
    assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_probs", LOG_PROBS)
@pytest.mark.parametrize("blank", [0, 3, -1])
def test_matches_the_cpu_core(
    cuda: ModuleType,
    gpu: Frontend,
    rng: np.random.Generator,
    dtype: type,
    log_probs: bool,
    blank: int,
) -> None:
    problem = random_problem(
        rng, frames=50, batch=9, classes=12, max_label=20, blank=blank, dtype=dtype
    )
    if log_probs:
        problem.inputs = reference.log_softmax(problem.inputs).astype(dtype)
    want, got = _cpu_and_gpu(cuda, gpu, problem, log_probs=log_probs)
    _assert_matches(got, want, dtype)
    loss = cuda.ctc_loss(
        gpu.put(problem.inputs), problem.labels, problem.input_lengths, blank=problem.blank,
        log_probs=log_probs,
    )  # fmt: skip
    # The loss alone runs in log space, the loss with the gradient in probability space
    # (where it can vouch for it): equal to rounding, as on the CPU.
    np.testing.assert_allclose(gpu.get(loss), got[0], **_tolerances(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_identical_from_run_to_run(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, dtype: type
) -> None:
    problem = random_problem(rng, frames=120, batch=16, classes=40, max_label=50, dtype=dtype)
    inputs = gpu.put(problem.inputs)
    args = (problem.labels, problem.input_lengths)
    first = [gpu.get(a) for a in cuda.ctc_loss_and_grad(inputs, *args, reduction="mean")]
    for _ in range(3):
        again = [gpu.get(a) for a in cuda.ctc_loss_and_grad(inputs, *args, reduction="mean")]
        np.testing.assert_array_equal(again[0], first[0])
        np.testing.assert_array_equal(again[1], first[1])


@pytest.mark.parametrize("form", ["padded", "concatenated", "list", "device"])
def test_label_forms(cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, form: str) -> None:
    problem = random_problem(rng, frames=30, batch=5, classes=8, max_label=10)
    lengths = problem.label_lengths
    labels: Any = {
        "padded": problem.padded_labels(),
        "concatenated": problem.concatenated_labels(),
        "list": problem.labels,
        "device": gpu.put(problem.padded_labels()),
    }[form]
    want = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    got = cuda.ctc_loss_and_grad(
        gpu.put(problem.inputs),
        labels,
        gpu.put(problem.input_lengths) if form == "device" else problem.input_lengths,
        None if form == "list" else lengths,
    )
    _assert_matches((gpu.get(got[0]), gpu.get(got[1])), want, np.float64)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_match_the_cpu_core(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, reduction: str, dtype: type
) -> None:
    problem = random_problem(rng, frames=25, batch=6, classes=7, max_label=8, dtype=dtype)
    problem.labels[1] = np.empty(0, np.int64)
    want, got = _cpu_and_gpu(cuda, gpu, problem, reduction=reduction)
    assert got[0].shape == ()
    _assert_matches(got, want, dtype)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_edge_cases_match_the_cpu_core(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, zero_infinity: bool
) -> None:
    problem = random_problem(rng, frames=12, batch=6, classes=5, max_label=4)
    problem.labels[0] = np.array([1, 1, 1, 1, 1, 1, 1], np.int64)  # needs 13 frames: impossible
    problem.labels[1] = np.empty(0, np.int64)  # only blanks
    problem.input_lengths[2] = 0  # no frames
    problem.labels[2] = np.empty(0, np.int64)  # ... and an empty label: loss 0
    problem.labels[3] = np.array([1, 2], np.int64)
    problem.input_lengths[3] = 5
    problem.inputs[5:, 3] = np.nan  # NaN in padding frames is never read
    problem.inputs[2, 4, 0] = np.nan  # a NaN that sequence 4 reads: NaN for it alone
    want, got = _cpu_and_gpu(cuda, gpu, problem, zero_infinity=zero_infinity)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=0, equal_nan=True)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-13, equal_nan=True)
    assert np.isnan(got[0][4]) and np.isfinite(got[0][[1, 2, 3, 5]]).all()


def test_labels_longer_than_cudnn_and_warp_ctc_allow(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator
) -> None:
    # cuDNN caps labels at 256 and warp-ctc at 639; nothing caps them here.
    problem = random_problem(rng, frames=2600, batch=2, classes=60, max_label=1200)
    problem.labels = [rng.integers(1, 60, size=1200), rng.integers(1, 60, size=700)]
    problem.input_lengths[:] = [2600, 2000]
    want, got = _cpu_and_gpu(cuda, gpu, problem)
    _assert_matches(got, want, np.float64)


@pytest.mark.parametrize(
    "label_length",
    [3000, 5900],
    ids=["rows-in-shared-memory-past-48-KB", "rows-in-the-workspace"],
)
def test_labels_too_long_for_the_default_shared_memory(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, label_length: int
) -> None:
    # A lattice block keeps its rolling rows and classes, 20 bytes a state, in shared
    # memory: past 48 KB only after opting in, and past the device's limit (about 227 KB
    # on an H100) not at all, when the rows stay in the workspace.
    frames = 3 * label_length // 2 + 100  # enough for the repeats of 5 classes
    problem = random_problem(
        rng, frames=frames, batch=1, classes=6, max_label=1, variable_lengths=False
    )
    problem.labels = [rng.integers(1, 6, size=label_length)]
    want, got = _cpu_and_gpu(cuda, gpu, problem)
    # Thousands of frames of log-space recursion: rounding errors of order 1e-12 in
    # the gradient (measured on an H200: at most 5e-13 with 3000 labels, 1.8e-12 with
    # 5900).
    _assert_matches(got, want, np.float64, grad_atol=5e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_long_sequence_and_peaked_inputs(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, dtype: type
) -> None:
    problem = random_problem(
        rng, frames=10_000, batch=1, classes=30, max_label=400, variable_lengths=False,
        dtype=dtype, scale=100.0,
    )  # fmt: skip
    want, got = _cpu_and_gpu(cuda, gpu, problem)
    # ln p is about -1.6e6 here: each emission ln y (hundreds below 0 on these peaked
    # frames) is rounded in float64 before either core sees it, and thousands of those
    # roundings add up along competing paths. Against an 80-bit reference the CPU core's
    # gradient is off by up to 1.3e-11 here; the bound allowed is eps |ln p|, 3.5e-10.
    grad_atol = None if dtype == np.float32 else float(np.finfo(np.float64).eps * abs(want[0][0]))
    _assert_matches(got, want, dtype, grad_atol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequences_left_to_log_space_among_others(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, dtype: type
) -> None:
    # With a gradient the GPU works in probability space and recomputes in log space
    # the sequences it cannot vouch for: here a peaked one (logits x 100, whose rows
    # underflow), one with log-scores above 0 (emissions above 1) and one whose
    # emissions are far below a double's range, among ordinary ones; each must come
    # out as the CPU core computes it, whichever path took it.
    problem = random_problem(
        rng, frames=300, batch=6, classes=20, max_label=40, variable_lengths=False,
        dtype=dtype, scale=3.0,
    )  # fmt: skip
    problem.inputs = reference.log_softmax(problem.inputs.astype(np.float64))
    problem.inputs[:, 1] *= 100.0  # peaked
    problem.inputs[:, 3] += 2.0  # log-scores above 0
    problem.inputs[:, 4] -= 800.0  # e^{-800}: below the smallest double
    problem.inputs = problem.inputs.astype(dtype)
    want, got = _cpu_and_gpu(cuda, gpu, problem, log_probs=True)
    largest_loss = float(np.abs(want[0]).max())
    grad_atol = None if dtype == np.float32 else float(np.finfo(np.float64).eps) * largest_loss
    _assert_matches(got, want, dtype, grad_atol)


def _device_views(gpu: Frontend, tnc: np.ndarray) -> dict[str, tuple[Any, str]]:
    """Device views of the same (T, N, C) data with unusual strides, and their layout."""
    padded = np.zeros((tnc.shape[0], tnc.shape[1], 2 * tnc.shape[2]), tnc.dtype)
    padded[:, :, ::2] = tnc
    batch_major = gpu.put(tnc.transpose(1, 0, 2))
    return {
        "TNC": (gpu.put(tnc), "TNC"),
        "NTC": (batch_major, "NTC"),
        "class-stride-2": (gpu.put(padded)[:, :, ::2], "TNC"),
        "transposed-view": (gpu.swap_time_and_batch(batch_major), "TNC"),
    }


@pytest.mark.parametrize("view", ["TNC", "NTC", "class-stride-2", "transposed-view"])
def test_strided_inputs_are_read_in_place(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator, view: str
) -> None:
    problem = random_problem(rng, frames=20, batch=4, classes=6, max_label=6)
    inputs, layout = _device_views(gpu, problem.inputs)[view]
    want = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    loss, grad = cuda.ctc_loss_and_grad(
        inputs, problem.labels, problem.input_lengths, layout=layout
    )
    grad_tnc = gpu.get(grad)
    if layout == "NTC":
        grad_tnc = grad_tnc.transpose(1, 0, 2)
    _assert_matches((gpu.get(loss), grad_tnc), want, np.float64)


def test_outputs_are_written_in_place(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator
) -> None:
    problem = random_problem(rng, frames=20, batch=4, classes=6, max_label=6)
    want = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    wide = gpu.put(np.full((20, 4, 12), 7.0))
    grad_out = wide[:, :, ::2]  # strided: written in place
    out = gpu.put(np.zeros(8))[::2]  # strided: the losses are copied in
    loss, grad = cuda.ctc_loss_and_grad(
        gpu.put(problem.inputs), problem.labels, problem.input_lengths, out=out, grad_out=grad_out
    )
    assert loss is out and grad is grad_out
    _assert_matches((gpu.get(out), gpu.get(grad_out)), want, np.float64)
    assert (gpu.get(wide)[:, :, 1::2] == 7.0).all()  # the gaps untouched


def test_numpy_inputs_with_a_device(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator
) -> None:
    problem = random_problem(rng, frames=20, batch=4, classes=6, max_label=6)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    want = fastctc.ctc_loss_and_grad(*args, reduction="mean")
    grad_out = np.empty_like(problem.inputs)
    loss, grad = cuda.ctc_loss_and_grad(*args, reduction="mean", device=0, grad_out=grad_out)
    assert isinstance(loss, np.float64) and grad is grad_out
    _assert_matches((np.asarray(loss), grad), (np.asarray(want[0]), want[1]), np.float64)


def test_any_cuda_array_interface_is_read_without_a_copy(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator
) -> None:
    problem = random_problem(rng, frames=20, batch=4, classes=6, max_label=6)
    device_array = gpu.put(problem.inputs)

    class Interface:  # only the protocol, as Numba's and other libraries' arrays offer
        __cuda_array_interface__ = device_array.__cuda_array_interface__

    want = fastctc.ctc_loss(problem.inputs, problem.labels, problem.input_lengths)
    loss = cuda.ctc_loss(Interface(), problem.labels, problem.input_lengths)
    got = np.asarray(loss.get() if hasattr(loss, "get") else loss.cpu().numpy())
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_runs_on_the_current_stream(
    cuda: ModuleType, gpu: Frontend, rng: np.random.Generator
) -> None:
    problem = random_problem(rng, frames=200, batch=8, classes=20, max_label=30)
    want = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    module = gpu.module
    side = module.cuda.Stream() if gpu.name == "torch" else module.cuda.Stream(non_blocking=True)
    current = module.cuda.stream(side) if gpu.name == "torch" else side  # makes it current
    with current:
        inputs = gpu.put(problem.inputs)
        loss, grad = cuda.ctc_loss_and_grad(inputs, problem.labels, problem.input_lengths)
        side.synchronize()
        _assert_matches((gpu.get(loss), gpu.get(grad)), want, np.float64)


@pytest.mark.parametrize(
    "defect", ["none", "label-is-blank", "label-out-of-range", "input-too-long", "label-too-long"]
)
def test_the_c_api_turns_invalid_device_data_into_nan(cuda: ModuleType, defect: str) -> None:
    # fastctc.cuda checks everything on the host first; C callers get this instead.
    torch = Frontend("torch").module
    from fastctc import _ctc_cuda

    frames, batch, classes, bound = 10, 3, 5, 4
    inputs_np = np.random.default_rng(1).standard_normal((frames, batch, classes))
    inputs = torch.from_numpy(inputs_np).cuda()
    input_lengths = torch.full((batch,), frames, dtype=torch.int64, device="cuda")
    label_lengths = torch.full((batch,), 2, dtype=torch.int64, device="cuda")
    labels = torch.tensor([1, 2, 3, 3, 4, 1], dtype=torch.int32, device="cuda")
    if defect == "label-is-blank":
        labels[3] = 0
    elif defect == "label-out-of-range":
        labels[3] = classes
    elif defect == "input-too-long":
        input_lengths[1] = frames + 1
    elif defect == "label-too-long":
        label_lengths[1] = bound + 1
    losses = torch.zeros(batch, dtype=torch.float64, device="cuda")
    grad = torch.zeros(frames, batch, classes, dtype=torch.float64, device="cuda")
    size = _ctc_cuda.workspace_size(frames, batch, classes, bound, with_grad=True)
    workspace = torch.empty(size, dtype=torch.uint8, device="cuda")
    _ctc_cuda.ctc_loss(
        device=0, stream=torch.cuda.current_stream(0).cuda_stream, double=True,
        inputs=inputs.data_ptr(), input_strides=inputs.stride(), max_time=frames,
        batch_size=batch, num_classes=classes, max_label_length=bound,
        input_lengths=input_lengths.data_ptr(), label_lengths=label_lengths.data_ptr(),
        labels=labels.data_ptr(), blank=0, log_probs=False, zero_infinity=False,
        losses=losses.data_ptr(), grad=grad.data_ptr(), grad_strides=grad.stride(), grad_scale=0,
        workspace=workspace.data_ptr(), workspace_bytes=size,
    )  # fmt: skip
    if defect == "none":
        want = fastctc.ctc_loss_and_grad(inputs_np, [[1, 2], [3, 3], [4, 1]])
        _assert_matches((losses.cpu().numpy(), grad.cpu().numpy()), want, np.float64)
    else:
        assert torch.isnan(losses).all() and torch.isnan(grad).all()


@pytest.mark.parametrize("logits", [False, True])
def test_fastctc_torch_runs_cuda_tensors_on_the_gpu(
    cuda: ModuleType, rng: np.random.Generator, logits: bool
) -> None:
    # fastctc.torch routes CUDA tensors to fastctc.cuda: the same losses and gradients as
    # CPU tensors, with autograd, and the results stay on the GPU.
    torch = Frontend("torch").module
    fastctc_torch = importlib.import_module("fastctc.torch")
    problem = random_problem(rng, frames=30, batch=4, classes=7, max_label=8)
    targets = torch.from_numpy(np.concatenate(problem.labels)).to(torch.int64)
    lengths = torch.tensor([len(label) for label in problem.labels])
    results = []
    for device in ("cpu", "cuda"):
        inputs = torch.from_numpy(problem.inputs).to(device).requires_grad_()
        loss = fastctc_torch.ctc_loss(
            inputs, targets.to(device), torch.from_numpy(problem.input_lengths).to(device),
            lengths.to(device), reduction="sum", logits=logits,
        )  # fmt: skip
        loss.backward()
        assert loss.device.type == device and inputs.grad.device.type == device
        results.append((loss.detach().cpu().numpy(), inputs.grad.cpu().numpy()))
    _assert_matches(results[1], results[0], np.float64)
