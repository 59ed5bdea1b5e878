"""fastctc: fast, exact CTC (Connectionist Temporal Classification) for NumPy.

The loss and its exact gradient, forced alignment and decoding are computed by an
OpenMP-parallel C++ core; ``fastctc.reference`` holds the readable float64 oracle
it is tested against.
"""

from importlib.metadata import PackageNotFoundError, version

from fastctc._align import Alignment, TokenSpans, forced_align
from fastctc._api import ctc_loss, ctc_loss_and_grad, workspace_size
from fastctc._decode import Hypothesis, beam_search, greedy_decode
from fastctc._posteriors import Posteriors, ctc_posteriors
from fastctc._scorer import KenLMScorer, Scorer

try:
    __version__ = version("fastctc")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

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
    "greedy_decode",
    "workspace_size",
]
