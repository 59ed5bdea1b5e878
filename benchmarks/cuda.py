"""fastctc.cuda against PyTorch's CUDA ctc_loss (its native kernels and cuDNN), on a GPU.

Run on a machine with a GPU, fastctc built with FASTCTC_CUDA=ON and a CUDA build of PyTorch:

    python benchmarks/cuda.py                 # every shape, float32, markdown table
    python benchmarks/cuda.py --repeat 50 --shapes long

Each timing is one training step's CTC work, loss and gradient, measured with CUDA events
(median of --repeat runs after warm-up), the same inputs for everyone:

- "log-probs": the gradient with respect to given log-probabilities: fastctc.cuda with
  log_probs=True; PyTorch's F.ctc_loss forward and backward on a leaf tensor.
- "logits": the gradient with respect to logits: fastctc.cuda's fused softmax; PyTorch's
  log_softmax, F.ctc_loss, and both backwards.

fastctc's time is end to end: argument checks, the label upload and the kernels. PyTorch's
cuDNN path is timed only where PyTorch would take it (blank 0, float32, int32 targets,
every label shorter than 256 and no longer than its input); "n/a" elsewhere. Ratios are
PyTorch's time over fastctc's: above 1, fastctc is faster. The losses are cross-checked.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import fastctc


@dataclass(frozen=True)
class Shape:
    name: str
    frames: int
    batch: int
    classes: int
    label: int
    variable: bool  # variable input and label lengths


SHAPES = [
    Shape("T=150 N=32 C=28 L=40", 150, 32, 28, 40, False),
    Shape("T=150 N=32 C=5000 L=20", 150, 32, 5000, 20, False),
    Shape("T=800 N=16 C=32 L=150 var", 800, 16, 32, 150, True),
    Shape("T=250 N=32 C=1024 L=60 var", 250, 32, 1024, 60, True),
    Shape("long: T=10000 N=1 C=32 L=1000", 10_000, 1, 32, 1000, False),
]


def make_problem(
    shape: Shape, rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Float32 logits (T, N, C), feasible labels (blank 0) and input lengths."""
    logits = rng.standard_normal((shape.frames, shape.batch, shape.classes)).astype(np.float32)
    labels, lengths = [], []
    for _ in range(shape.batch):
        frames = (
            int(rng.integers(shape.frames // 2, shape.frames + 1))
            if shape.variable
            else shape.frames
        )
        length = (
            int(rng.integers(shape.label // 2, shape.label + 1)) if shape.variable else shape.label
        )
        label = rng.integers(1, shape.classes, size=length)
        while label.size + np.sum(label[1:] == label[:-1]) > frames:
            label = label[:-1]
        labels.append(label)
        lengths.append(frames)
    return logits, labels, np.array(lengths, np.int64)


def median_ms(torch: Any, step: Callable[[], Any], warmup: int, repeat: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def cudnn_eligible(torch: Any, labels: list[np.ndarray], lengths: np.ndarray) -> bool:
    """PyTorch's own test for its cuDNN CTC path (blank 0 and float32 are given here)."""
    return bool(torch.backends.cudnn.is_available()) and all(
        len(label) < 256 and len(label) <= frames for label, frames in zip(labels, lengths)
    )


def run_shape(
    torch: Any, cuda: Any, shape: Shape, inputs: str, args: argparse.Namespace
) -> dict[str, Any]:
    functional = torch.nn.functional
    rng = np.random.default_rng(args.seed)
    logits_np, labels, lengths = make_problem(shape, rng)
    device = torch.device("cuda", args.device)
    logits = torch.from_numpy(logits_np).to(device)
    log_probs = logits.log_softmax(2).detach()
    label_lengths = np.array([len(label) for label in labels], np.int64)
    flat = np.concatenate(labels)

    # fastctc: the labels as a list, lengths on the host: nothing waits for the GPU.
    fast_inputs = log_probs if inputs == "log-probs" else logits

    def fast_step() -> Any:
        return cuda.ctc_loss_and_grad(fast_inputs, labels, lengths, log_probs=inputs == "log-probs")

    # PyTorch: int64 targets on the GPU take its native kernels; int32 targets and int32
    # length tensors take cuDNN where eligible.
    def torch_step(targets: Any, input_lengths: Any, target_lengths: Any) -> Callable[[], Any]:
        def step() -> Any:
            leaf = (log_probs if inputs == "log-probs" else logits).detach().requires_grad_()
            scores = leaf if inputs == "log-probs" else leaf.log_softmax(2)
            loss = functional.ctc_loss(
                scores, targets, input_lengths, target_lengths, reduction="sum"
            )
            loss.backward()
            return loss, leaf.grad

        return step

    native = torch_step(
        torch.from_numpy(flat).to(device),
        torch.from_numpy(lengths).to(device),
        torch.from_numpy(label_lengths).to(device),
    )
    result: dict[str, Any] = {"shape": shape.name, "inputs": inputs}
    result["fastctc"] = median_ms(torch, fast_step, args.warmup, args.repeat)
    with torch.backends.cudnn.flags(enabled=False):
        result["native"] = median_ms(torch, native, args.warmup, args.repeat)
        torch_loss = native()[0].item()
    fast_loss = float(fast_step()[0].double().sum().item())
    result["loss_rel_diff"] = abs(fast_loss - torch_loss) / abs(torch_loss)
    result["cudnn"] = None
    if cudnn_eligible(torch, labels, lengths):
        cudnn = torch_step(
            torch.from_numpy(flat.astype(np.int32)).to(device),
            torch.from_numpy(lengths.astype(np.int32)).to(device),
            torch.from_numpy(label_lengths.astype(np.int32)).to(device),
        )
        with torch.backends.cudnn.flags(enabled=True):
            result["cudnn"] = median_ms(torch, cudnn, args.warmup, args.repeat)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20061)
    parser.add_argument("--shapes", default="", help="only shapes whose name contains this")
    parser.add_argument("--inputs", choices=["log-probs", "logits", "both"], default="both")
    args = parser.parse_args()

    import torch

    import fastctc.cuda as cuda

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark needs a GPU and a CUDA build of PyTorch")
    properties = torch.cuda.get_device_properties(args.device)
    print(
        f"device: {properties.name} ({properties.total_memory / 2**30:.0f} GiB); "
        f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, "
        f"cuDNN {torch.backends.cudnn.version()}; fastctc {fastctc.__version__}; float32; "
        f"median of {args.repeat} runs"
    )
    print()
    print(
        "| shape | gradient w.r.t. | fastctc ms | PyTorch native ms | ratio "
        "| PyTorch cuDNN ms | ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    kinds = ["log-probs", "logits"] if args.inputs == "both" else [args.inputs]
    for shape in SHAPES:
        if args.shapes not in shape.name:
            continue
        for inputs in kinds:
            r = run_shape(torch, cuda, shape, inputs, args)
            cudnn = "n/a" if r["cudnn"] is None else f"{r['cudnn']:.3f}"
            cudnn_ratio = "n/a" if r["cudnn"] is None else f"{r['cudnn'] / r['fastctc']:.2f}x"
            print(
                f"| {r['shape']} | {inputs} | {r['fastctc']:.3f} | {r['native']:.3f} | "
                f"{r['native'] / r['fastctc']:.2f}x | {cudnn} | {cudnn_ratio} |"
            )
            if r["loss_rel_diff"] > 1e-4:
                print(f"  warning: summed losses differ by {r['loss_rel_diff']:.2e} (relative)")


if __name__ == "__main__":
    main()
