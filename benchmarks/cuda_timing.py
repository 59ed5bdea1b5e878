"""fastctc.cuda alone on some of benchmarks/cuda.py's shapes: for comparing kernel versions.

Run on a machine with a GPU, CuPy, and fastctc built with FASTCTC_CUDA=ON:

    python benchmarks/cuda_timing.py LABEL [SUBSTRING ...]

For each shape of benchmarks/cuda.py whose name contains one of the substrings (default:
"C=28", "T=800", "long"), the same seeded float32 logits, labels and lengths as there;
loss and gradient with respect to the logits, three calls to warm up, then the median of
15 calls timed with CUDA events around the Python call (so the time includes the argument
checks and the label upload). Prints one line a shape, starting with LABEL. With LABEL
"ncu" it only makes the warm-up calls, for Nsight Compute to profile.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path

import cupy
import numpy as np

import fastctc.cuda

_BENCHMARK = Path(__file__).with_name("cuda.py")
_spec = importlib.util.spec_from_file_location("cuda_benchmark", _BENCHMARK)
assert _spec is not None and _spec.loader is not None
cuda_benchmark = importlib.util.module_from_spec(_spec)
sys.modules["cuda_benchmark"] = cuda_benchmark
_spec.loader.exec_module(cuda_benchmark)


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "fastctc"
    wanted = sys.argv[2:] or ["C=28", "T=800", "long"]
    for shape in cuda_benchmark.SHAPES:
        if not any(w in shape.name for w in wanted):
            continue
        logits, labels, lengths = cuda_benchmark.make_problem(shape, np.random.default_rng(20061))
        x = cupy.asarray(logits)
        for _ in range(3):
            fastctc.cuda.ctc_loss_and_grad(x, labels, lengths)
        if label == "ncu":
            continue
        times = []
        for _ in range(15):
            start, stop = cupy.cuda.Event(), cupy.cuda.Event()
            start.record()
            fastctc.cuda.ctc_loss_and_grad(x, labels, lengths)
            stop.record()
            stop.synchronize()
            times.append(cupy.cuda.get_elapsed_time(start, stop))
        print(f"{label:>12} {shape.name:32} {statistics.median(times):8.3f} ms")


if __name__ == "__main__":
    main()
