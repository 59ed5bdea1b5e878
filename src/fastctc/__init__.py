"""fastctc: fast, exact CTC (Connectionist Temporal Classification) for NumPy.

The loss and its exact gradient, forced alignment and decoding are computed by an
OpenMP-parallel C++ core; ``fastctc.reference`` holds the readable float64 oracle
it is tested against.
"""

from fastctc import _ctc
from fastctc._align import Alignment, TokenSpans, forced_align
from fastctc._api import ctc_loss, ctc_loss_and_grad, workspace_size
from fastctc._config import show_config
from fastctc._decode import Hypothesis, beam_search, greedy_decode
from fastctc._embedding import get_cmake_dir, get_include
from fastctc._posteriors import Posteriors, ctc_posteriors
from fastctc._scorer import KenLMScorer, Scorer

# The version compiled into the native library, which CMake reads from
# pyproject.toml: always that of the code this import runs.
__version__: str = _ctc.version()

__all__ = [
    "Alignment",
    "Hypothesis",
    "KenLMScorer",
    "Posteriors",
    "Scorer",
    "TokenSpans",
    "__version__",
    "beam_search",
    "ctc_loss",
    "ctc_loss_and_grad",
    "ctc_posteriors",
    "forced_align",
    "get_cmake_dir",
    "get_include",
    "greedy_decode",
    "show_config",
    "workspace_size",
]
