"""``fastctc.show_config()``: how this fastctc was built and what it runs on, for bug reports."""

from __future__ import annotations

import importlib.util
import os
import platform
from pathlib import Path
from typing import TextIO

import numpy as np

from fastctc import _ctc

# The _OPENMP dates of the OpenMP specifications (MSVC's /openmp reports 2.0).
_OPENMP_SPECIFICATIONS = {
    200203: "2.0",
    200505: "2.5",
    200805: "3.0",
    201107: "3.1",
    201307: "4.0",
    201511: "4.5",
    201811: "5.0",
    202011: "5.1",
    202111: "5.2",
    202411: "6.0",
}

# The optional CUDA build (CMake option FASTCTC_CUDA) installs this compiled
# module; its presence is what "CUDA: built" means. It is looked up, not
# imported, so reporting starts no CUDA runtime.
CUDA_MODULE = "fastctc._ctc_cuda"


def _openmp() -> str:
    date = _ctc.openmp_version()
    if date == 0:
        return "not built"
    spec = _OPENMP_SPECIFICATIONS.get(date, "of unknown version")
    library = _ctc.openmp_library()
    runtime = os.path.normpath(library) if library else "not known on this platform"
    return f"OpenMP {spec} ({date}), runtime {runtime}"


def cuda_built() -> bool:
    """Whether the optional CUDA module is installed."""
    return importlib.util.find_spec(CUDA_MODULE) is not None


def build_info() -> dict[str, str]:
    """The facts that ``show_config`` prints, by name."""
    return {
        "fastctc": f"{_ctc.version()} in {Path(__file__).parent}",
        "compiler": _ctc.compiler(),
        "OpenMP": _openmp(),
        "SIMD level": _ctc.simd_level(),
        "CUDA": f"built ({CUDA_MODULE})" if cuda_built() else "not built",
        "Python": f"{platform.python_version()} on {platform.platform()}",
        "NumPy": np.__version__,
    }


def show_config(file: TextIO | None = None) -> None:
    """Print how this fastctc was built and what it runs on.

    The version and location, the compiler that built the native core, the
    OpenMP specification and the runtime library this process loaded (a wheel
    vendors its own), the instruction-set level of the kernels in use, whether
    the optional CUDA module was built, and the Python and NumPy versions.
    Paste it into bug reports. ``file`` defaults to ``sys.stdout``.
    """
    info = build_info()
    width = max(map(len, info)) + 1
    for name, value in info.items():
        print(f"{name + ':':<{width}} {value}", file=file)
