"""Array forms (strides, read-only, outputs in place), memory, and thread determinism."""

from __future__ import annotations

import threading
import tracemalloc
from typing import Any

import numpy as np
import pytest
from problems import TinyCase, random_problem

import fastctc
from fastctc import reference

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_probs", [False, True], ids=["logits", "log_probs"])
def test_bit_identical_for_any_thread_count(
    rng: np.random.Generator, dtype: type, log_probs: bool
) -> None:
    problem = random_problem(rng, frames=60, batch=17, classes=9, max_label=20, dtype=dtype)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    loss_1, grad_1 = fastctc.ctc_loss_and_grad(*args, num_threads=1, log_probs=log_probs)
    for threads in (2, 3, 8, None):
        loss, grad = fastctc.ctc_loss_and_grad(*args, num_threads=threads, log_probs=log_probs)
        np.testing.assert_array_equal(loss, loss_1)
        np.testing.assert_array_equal(grad, grad_1)
        np.testing.assert_array_equal(
            fastctc.ctc_loss(*args, num_threads=threads, log_probs=log_probs), loss_1
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 100.0], ids=["ordinary", "peaked"])
def test_one_sequence_shared_by_threads_is_bit_identical(dtype: type, scale: float) -> None:
    # A batch of one sequence is shared by all threads: frames read in parallel, the
    # forward and backward recursions at once.  Labels of 70 span three lattice
    # blocks; the peaked input takes the log-space path.
    rng = np.random.default_rng(7)
    inputs = (scale * rng.standard_normal((400, 1, 12))).astype(dtype)
    labels = rng.integers(1, 12, size=(1, 70))
    one = fastctc.workspace_size(inputs, labels, num_threads=1)
    # Sharing keeps T lattice rows, as one thread does (forward rows up to the middle
    # frame, backward rows from it on), and two rolling rows and a thread's buffers
    # more: far below another T rows of 2 |l| + 1 doubles.
    row_bytes = (2 * 70 + 1 + 70 // 32 + 3) * 8
    assert one < fastctc.workspace_size(inputs, labels, num_threads=2) < one + 8 * row_bytes
    loss_1, grad_1 = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1)
    expected_loss, expected_grad = reference.ctc_loss_and_grad(inputs.astype(np.float64), labels)
    np.testing.assert_allclose(loss_1, expected_loss, rtol=1e-12 if dtype == np.float64 else 1e-5)
    for threads in (2, 3, 8):
        loss, grad = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=threads)
        np.testing.assert_array_equal(loss, loss_1)
        np.testing.assert_array_equal(grad, grad_1)
        np.testing.assert_array_equal(fastctc.ctc_loss(inputs, labels, num_threads=threads), loss_1)
    np.testing.assert_allclose(grad_1, expected_grad, atol=1e-11 if dtype == np.float64 else 1e-6)


def test_shared_sequence_edges_are_bit_identical(tiny: TinyCase) -> None:
    # The shared path splits the lattice at the middle frame: frames 1 to 6 put the
    # middle at 0 to 3, with empty, repeated and impossible labels; the same input
    # with a NaN in the first, middle or last frame, or with every blank -inf, runs
    # the recursions over broken rows.
    variants = {"as-is": tiny.inputs}
    for frame in (0, tiny.frames // 2, tiny.frames - 1):
        broken = tiny.inputs.copy()
        broken[frame, 0, tiny.blank] = np.nan
        variants[f"nan-at-{frame}"] = broken
    unreachable = tiny.inputs.copy()
    unreachable[:, 0, tiny.blank] = -np.inf
    variants["no-blank"] = unreachable
    labels = np.array([tiny.label], dtype=np.int64).reshape(1, -1)
    kwargs = {"blank": tiny.blank, "log_probs": tiny.log_probs}
    for name, inputs in variants.items():
        one = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1, **kwargs)
        posteriors_1 = fastctc.ctc_posteriors(inputs, labels, num_threads=1, **kwargs)
        for threads in (2, 3):
            loss, grad = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=threads, **kwargs)
            np.testing.assert_array_equal(loss, one[0], err_msg=name)
            np.testing.assert_array_equal(grad, one[1], err_msg=name)
            loss_alone = fastctc.ctc_loss(inputs, labels, num_threads=threads, **kwargs)
            np.testing.assert_array_equal(loss_alone, one[0], err_msg=name)
            posteriors = fastctc.ctc_posteriors(inputs, labels, num_threads=threads, **kwargs)
            np.testing.assert_array_equal(posteriors.classes, posteriors_1.classes, err_msg=name)
            np.testing.assert_array_equal(posteriors.states, posteriors_1.states, err_msg=name)


@pytest.mark.parametrize("classes", [20, 3000], ids=["reader-ahead", "reading-shared"])
@pytest.mark.parametrize("frame", [0, 1, 150, 299])
def test_a_shared_loss_alone_counts_each_frame_whichever_thread_read_it(
    frame: int, classes: int
) -> None:
    # The loss alone of one sequence: a reader thread reads the frames ahead of the
    # forward pass, which reads one itself when the reader has not taken it (with 20
    # classes the reader keeps ahead; with 3000 a frame costs more to read than a
    # step, and the two share the reading).  A label as long as the input leaves one
    # alignment: frame t emits label t.  A NaN at the frame makes it unsound; a logit
    # of -800 for its label makes its emission underflow (e^-800 is below the doubles;
    # the frame is not exact), so the probability space finds no alignment and the
    # loss comes from log space, where it is finite.  Whoever read the frame, every
    # thread count must give one thread's bits, as the input as it is must.
    rng = np.random.default_rng(11)
    frames = 300
    inputs = rng.standard_normal((frames, 1, classes)).astype(np.float32)
    steps = rng.integers(1, classes - 1, size=frames)
    labels = (1 + np.cumsum(steps) % (classes - 1)).reshape(1, frames)  # no class twice in a row
    nan_frame = inputs.copy()
    nan_frame[frame, 0, 0] = np.nan
    underflowing = inputs.copy()
    underflowing[frame, 0, labels[0, frame]] = -800.0
    variants = {"as-is": inputs, "nan": nan_frame, "underflowing": underflowing}
    for name, variant in variants.items():
        expected = fastctc.ctc_loss(variant, labels, num_threads=1)
        np.testing.assert_array_equal(
            fastctc.ctc_loss_and_grad(variant, labels, num_threads=1)[0], expected, err_msg=name
        )
        for threads in (2, 3):
            for _ in range(5):  # which thread reads the frame depends on timing
                np.testing.assert_array_equal(
                    fastctc.ctc_loss(variant, labels, num_threads=threads), expected, err_msg=name
                )
    assert np.isnan(fastctc.ctc_loss(nan_frame, labels, num_threads=2)[0])
    assert 800.0 < fastctc.ctc_loss(underflowing, labels, num_threads=2)[0] < np.inf


def test_results_do_not_depend_on_the_callers_flush_to_zero_mode() -> None:
    # Flush-to-zero is a per-thread mode that frameworks set; subnormal float32
    # gradients (peaked inputs give some) must come out the same in any mode, from the
    # calling thread and from workers alike.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    inputs = (100.0 * rng.standard_normal((400, 1, 12))).astype(np.float32)
    labels = rng.integers(1, 12, size=(1, 70))
    loss, grad = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1)
    assert np.any((grad != 0) & (np.abs(grad) < np.finfo(np.float32).tiny))  # subnormals
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU has no flush-to-zero mode")
    try:
        results = [fastctc.ctc_loss_and_grad(inputs, labels, num_threads=t) for t in (1, 2, 3)]
    finally:
        torch.set_flush_denormal(False)  # before comparing: it also reads subnormals as 0
    for flushed_loss, flushed_grad in results:
        np.testing.assert_array_equal(flushed_loss, loss)
        np.testing.assert_array_equal(flushed_grad, grad)


def _strided_views(tnc: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    """Views of the same (T, N, C) data with unusual strides, and their layout."""
    padded = np.zeros((tnc.shape[0], tnc.shape[1], 2 * tnc.shape[2]), tnc.dtype)
    padded[:, :, ::2] = tnc
    reversed_classes = np.ascontiguousarray(tnc[:, :, ::-1])[:, :, ::-1]
    return {
        "class-stride-2": (padded[:, :, ::2], "TNC"),
        "negative-class-stride": (reversed_classes, "TNC"),
        "fortran-order": (np.asfortranarray(tnc), "TNC"),
        "NTC-view-of-TNC-memory": (tnc.transpose(1, 0, 2), "NTC"),
        "TNC-view-of-NTC-memory": (
            np.ascontiguousarray(tnc.transpose(1, 0, 2)).transpose(1, 0, 2),
            "TNC",
        ),
    }


@pytest.mark.parametrize(
    "view",
    [
        "class-stride-2",
        "negative-class-stride",
        "fortran-order",
        "NTC-view-of-TNC-memory",
        "TNC-view-of-NTC-memory",
    ],
)
def test_any_strides_give_the_same_result(rng: np.random.Generator, view: str) -> None:
    problem = random_problem(rng, frames=20, batch=4, classes=6, max_label=6)
    args = (problem.labels, problem.input_lengths)
    expected_loss, expected_grad = fastctc.ctc_loss_and_grad(problem.inputs, *args)
    inputs, layout = _strided_views(problem.inputs)[view]
    loss, grad = fastctc.ctc_loss_and_grad(inputs, *args, layout=layout)
    np.testing.assert_array_equal(loss, expected_loss)
    np.testing.assert_array_equal(
        grad if layout == "TNC" else grad.transpose(1, 0, 2), expected_grad
    )
    assert grad.shape == inputs.shape


def test_read_only_inputs_are_accepted(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=10, batch=2, classes=4, max_label=3)
    expected = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, problem.input_lengths)
    problem.inputs.flags.writeable = False
    lengths = problem.input_lengths.copy()
    lengths.flags.writeable = False
    loss, grad = fastctc.ctc_loss_and_grad(problem.inputs, problem.labels, lengths)
    np.testing.assert_array_equal(loss, expected[0])
    np.testing.assert_array_equal(grad, expected[1])


def test_non_native_byte_order_is_accepted(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=10, batch=2, classes=4, max_label=3)
    swapped = problem.inputs.astype(problem.inputs.dtype.newbyteorder(">"))
    loss = fastctc.ctc_loss(swapped, problem.labels, problem.input_lengths)
    np.testing.assert_array_equal(
        loss, fastctc.ctc_loss(problem.inputs, problem.labels, problem.input_lengths)
    )
    assert loss.dtype == np.float64 and loss.dtype.isnative


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_outputs_are_written_in_place_and_returned(
    rng: np.random.Generator, reduction: str
) -> None:
    problem = random_problem(rng, frames=10, batch=3, classes=4, max_label=3)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    out = np.empty(3 if reduction == "none" else ())
    grad_out = np.empty_like(problem.inputs)
    loss, grad = fastctc.ctc_loss_and_grad(*args, reduction=reduction, out=out, grad_out=grad_out)
    assert loss is out and grad is grad_out
    assert np.shares_memory(loss, out) and np.shares_memory(grad, grad_out)
    expected_loss, expected_grad = fastctc.ctc_loss_and_grad(*args, reduction=reduction)
    np.testing.assert_array_equal(out, expected_loss)
    np.testing.assert_array_equal(grad_out, expected_grad)
    assert fastctc.ctc_loss(*args, reduction=reduction, out=out) is out


def test_strided_outputs(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=10, batch=3, classes=4, max_label=3)
    args = (problem.inputs, problem.labels, problem.input_lengths)
    out_storage = np.zeros(6)
    grad_storage = np.zeros((10, 3, 8))
    loss, grad = fastctc.ctc_loss_and_grad(
        *args, out=out_storage[::2], grad_out=grad_storage[:, :, 1::2]
    )
    expected_loss, expected_grad = fastctc.ctc_loss_and_grad(*args)
    np.testing.assert_array_equal(out_storage[::2], expected_loss)
    np.testing.assert_array_equal(grad_storage[:, :, 1::2], expected_grad)
    assert np.all(out_storage[1::2] == 0) and np.all(grad_storage[:, :, ::2] == 0)
    assert np.shares_memory(loss, out_storage) and np.shares_memory(grad, grad_storage)


def test_gradient_keeps_the_ntc_layout(rng: np.random.Generator) -> None:
    problem = random_problem(rng, frames=10, batch=3, classes=4, max_label=3)
    ntc = np.ascontiguousarray(problem.inputs.transpose(1, 0, 2))
    _, grad = fastctc.ctc_loss_and_grad(ntc, problem.labels, problem.input_lengths, layout="NTC")
    assert grad.shape == ntc.shape and grad.flags.c_contiguous


def _peak_traced_bytes(function, *args, **kwargs) -> int:
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_no_temporary_of_the_inputs_size(rng: np.random.Generator) -> None:
    # NumPy reports its allocations (outputs and the native workspace) to tracemalloc.
    # C large next to the labels: the workspace holds up to eight sequences' lattices
    # a thread (groups of eight in one AVX-512 register take 2.2 MB here), not C.
    problem = random_problem(
        rng, frames=200, batch=16, classes=1000, max_label=30, dtype=np.float32
    )
    ntc = np.ascontiguousarray(problem.inputs.transpose(1, 0, 2))
    args = (ntc, problem.labels, problem.input_lengths)
    size = ntc.nbytes
    assert _peak_traced_bytes(fastctc.ctc_loss, *args, layout="NTC") < size // 10
    peak = _peak_traced_bytes(fastctc.ctc_loss_and_grad, *args, layout="NTC")
    # The gradient itself, the workspace (a group of sequences' lattices per thread,
    # whatever C is) and nothing that large besides.
    workspace = fastctc.workspace_size(*args, layout="NTC")
    assert workspace < size // 4
    assert size <= peak < size + workspace + size // 20


def test_a_thread_reuses_its_workspace() -> None:
    rng = np.random.default_rng(3)
    inputs = rng.standard_normal((2000, 1, 8)).astype(np.float32)
    labels = rng.integers(1, 8, size=(1, 300))
    grad = np.empty_like(inputs)
    workspace = fastctc.workspace_size(inputs, labels, num_threads=1)
    assert workspace > 8 * 2000 * 601  # every forward row
    expected = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1, grad_out=grad)[0]
    tracemalloc.start()
    try:
        loss, _ = fastctc.ctc_loss_and_grad(inputs, labels, num_threads=1, grad_out=grad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < workspace / 10
    np.testing.assert_array_equal(loss, expected)


def test_a_thread_grows_its_workspace_for_a_larger_batch() -> None:
    # Each call in a fresh thread starts from no workspace; one thread running a small
    # batch, a larger one, then the small one again must grow its workspace in between
    # and give each call the bits of the fresh threads.
    rng = np.random.default_rng(4)
    small = (rng.standard_normal((20, 2, 6)), rng.integers(1, 6, size=(2, 4)))
    large = (rng.standard_normal((300, 3, 6)), rng.integers(1, 6, size=(3, 90)))
    assert fastctc.workspace_size(*large, num_threads=1) > fastctc.workspace_size(
        *small, num_threads=1
    )

    def run(*problems: tuple[np.ndarray, np.ndarray]) -> list[tuple[Any, np.ndarray]]:
        results: list[tuple[Any, np.ndarray]] = []
        thread = threading.Thread(
            target=lambda: results.extend(
                fastctc.ctc_loss_and_grad(*problem, num_threads=1) for problem in problems
            )
        )
        thread.start()
        thread.join()
        return results

    in_one_thread = run(small, large, small)
    fresh = [run(problem)[0] for problem in (small, large, small)]
    for (loss, grad), (fresh_loss, fresh_grad) in zip(in_one_thread, fresh, strict=True):
        np.testing.assert_array_equal(loss, fresh_loss)
        np.testing.assert_array_equal(grad, fresh_grad)


def test_workspace_grows_with_threads_not_batch(rng: np.random.Generator) -> None:
    # Batches of at least four short sequences a thread go in groups (a group's
    # region per thread, whatever the batch size).
    small = random_problem(rng, frames=50, batch=8, classes=6, max_label=10, variable_lengths=False)
    large = random_problem(
        rng, frames=50, batch=64, classes=6, max_label=10, variable_lengths=False
    )
    one = fastctc.workspace_size(small.inputs, small.labels, num_threads=1)
    assert fastctc.workspace_size(small.inputs, small.labels, num_threads=2) > one
    # 64 sequences of the same size as 8: only the per-sequence bookkeeping grows (the
    # order, the label offsets and the units of work: three int64 each).
    assert fastctc.workspace_size(large.inputs, large.labels, num_threads=1) < one + 64 * 24 + 128
    loss_only = fastctc.workspace_size(small.inputs, small.labels, num_threads=1, with_grad=False)
    assert loss_only < one
    # The loss alone rolls its rows and keeps, for its certification, each frame's
    # block scales and offset (certify_loss()): 2 doubles a frame here, not a row.
    frames = 2500
    long = random_problem(
        rng, frames=frames, batch=1, classes=6, max_label=10, variable_lengths=False
    )
    row_bytes = (2 * 10 + 1 + 3) * 8
    long_loss_only = fastctc.workspace_size(
        long.inputs, long.labels, num_threads=1, with_grad=False
    )
    assert frames * 2 * 8 < long_loss_only < frames * 2 * 8 + 8 * row_bytes + 4096


@pytest.mark.parametrize("frames", [0, 1, 2, 3, 40])
def test_a_gradient_workspace_serves_the_loss_alone(frames: int) -> None:
    # On a few frames the loss alone's rolling rows and frame scales can outweigh the
    # gradient's rows; a call with an empty gradient (no frames) runs as the loss alone.
    inputs = np.zeros((frames, 1, 5))
    labels = [[1, 2, 3]] if frames >= 3 else [[]]
    alone = fastctc.workspace_size(inputs, labels, num_threads=1, with_grad=False)
    assert fastctc.workspace_size(inputs, labels, num_threads=1) >= alone


FLOAT32_EXTREMES = [
    pytest.param(
        {"frames": 100, "batch": 4, "classes": 30, "max_label": 30, "scale": 100.0},
        id="logits-x100",
    ),
    pytest.param(
        {
            "frames": 10_000,
            "batch": 1,
            "classes": 40,
            "max_label": 2_000,
            "variable_lengths": False,
        },
        id="T10000-L2000",
    ),
]


@pytest.mark.parametrize("shape", FLOAT32_EXTREMES)
def test_float32_matches_float64_on_extreme_inputs(rng: np.random.Generator, shape: dict) -> None:
    problem = random_problem(rng, dtype=np.float32, **shape)
    args = (problem.labels, problem.input_lengths)
    loss32, grad32 = fastctc.ctc_loss_and_grad(problem.inputs, *args)
    loss64, grad64 = fastctc.ctc_loss_and_grad(problem.inputs.astype(np.float64), *args)
    assert np.all(np.isfinite(loss64))
    np.testing.assert_allclose(loss32, loss64, rtol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=0, atol=1e-5)


def test_workspace_size_takes_the_calls_blank() -> None:
    logits = np.zeros((10, 1, 4))
    # Class 0 is a label here, the blank is the last class.
    assert fastctc.workspace_size(logits, [[0, 1, 0]], blank=-1) > 0
    with pytest.raises(ValueError, match="is the blank class"):
        fastctc.workspace_size(logits, [[0, 1, 0]])
