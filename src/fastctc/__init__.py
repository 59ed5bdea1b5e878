"""fastctc: fast, exact CTC (Connectionist Temporal Classification) for NumPy.

The loss and its exact gradient are computed by an OpenMP-parallel C++ core;
``fastctc.reference`` holds the readable float64 oracle it is tested against.
"""

from importlib.metadata import PackageNotFoundError, version

from fastctc._api import ctc_loss, ctc_loss_and_grad, workspace_size

try:
    __version__ = version("fastctc")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "ctc_loss", "ctc_loss_and_grad", "workspace_size"]
