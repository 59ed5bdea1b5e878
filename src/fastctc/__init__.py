"""fastctc: fast, exact CTC (Connectionist Temporal Classification) for NumPy.

The loss and its exact gradient are computed by an OpenMP-parallel C++ core;
``fastctc.reference`` holds the readable float64 oracle it is tested against.
"""

from fastctc import _ctc
from fastctc._api import ctc_loss, ctc_loss_and_grad, workspace_size
from fastctc._config import show_config
from fastctc._embedding import get_cmake_dir, get_include

# The version compiled into the native library, which CMake reads from
# pyproject.toml: always that of the code this import runs.
__version__: str = _ctc.version()

__all__ = [
    "__version__",
    "ctc_loss",
    "ctc_loss_and_grad",
    "get_cmake_dir",
    "get_include",
    "show_config",
    "workspace_size",
]
