"""Language models for :func:`fastctc.beam_search`: the scorer hook and a KenLM adapter."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Prefix = tuple[int, ...]
ScoreFunction = Callable[[Prefix], npt.ArrayLike]

_LN_10 = math.log(10.0)


@dataclass(frozen=True)
class Scorer:
    """A language model for :func:`fastctc.beam_search`.

    ``score(prefix)`` gets a label prefix (a tuple of class ids, oldest first) and
    returns C natural-log scores: entry ``k`` scores appending class ``k`` to the
    prefix, and the blank's entry scores ending the sequence after it (use 0 to
    leave the end unscored). One call scores every extension of a prefix, once per
    prefix that enters the beam, so a Python model costs one call per new prefix,
    not one per (prefix, class). Scores may be ``-inf`` (forbidden), never NaN or
    ``+inf``.

    A prefix ``l`` is ranked by ``ln p(l | x) + weight * (sum of its tokens'
    scores) + insertion_bonus * len(l)``, plus ``weight`` times the end score after
    the last frame.
    """

    score: ScoreFunction
    weight: float = 1.0
    insertion_bonus: float = 0.0


def checked_score_function(
    scorer: Scorer, num_classes: int
) -> Callable[[Prefix], npt.NDArray[np.float64]]:
    """Wraps ``scorer.score`` so that every result reaching the core is C finite
    (or -inf) float64 scores, with a clear error otherwise."""

    def score(prefix: Prefix) -> npt.NDArray[np.float64]:
        values = np.ascontiguousarray(scorer.score(prefix), dtype=np.float64)
        if values.shape != (num_classes,):
            raise ValueError(
                f"Expected the scorer to return C={num_classes} log-scores for prefix "
                f"{prefix}, but got shape {values.shape}"
            )
        bad = np.flatnonzero(np.isnan(values) | (values == np.inf))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"scorer({prefix})[{k}] = {values[k]}; scores must be finite or -inf")
        return values

    return score


class KenLMScorer:
    """Scores prefixes with a KenLM n-gram model (ARPA or binary file).

    ``tokens[k]`` spells class ``k`` (the blank's entry is ignored). Without a
    ``word_delimiter`` every class is one word of the model (a word- or piece-level
    vocabulary): appending class ``k`` scores ``ln P(tokens[k] | previous tokens)``.
    With a ``word_delimiter`` (e.g. ``" "`` or ``"|"`` for character-level models)
    the prefix is spelled out and split into words at the delimiter: appending the
    delimiter scores the word it completes, other classes score 0, and the end of
    the sequence scores the unfinished word and the end of sentence.

    Needs the ``kenlm`` package; pass the object to :class:`Scorer` as ``score``.
    """

    def __init__(
        self,
        path: str,
        tokens: Sequence[str],
        *,
        blank: int = 0,
        word_delimiter: str | None = None,
    ) -> None:
        try:
            import kenlm
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("KenLMScorer needs the kenlm package: pip install kenlm") from error
        self._kenlm: Any = kenlm
        self._model: Any = kenlm.Model(str(path))
        self._tokens = list(tokens)
        self._blank = blank % len(self._tokens)
        self._delimiter = word_delimiter
        if word_delimiter is not None and word_delimiter not in self._tokens:
            raise ValueError(f"word_delimiter {word_delimiter!r} is not one of the tokens")
        self._delimiter_class = (
            self._tokens.index(word_delimiter) if word_delimiter is not None else -1
        )
        self._states: dict[tuple[str, ...], Any] = {}

    def __call__(self, prefix: Prefix) -> npt.NDArray[np.float64]:
        scores = np.zeros(len(self._tokens))
        if self._delimiter is None:
            history = tuple(self._tokens[k] for k in prefix)
            for k, word in enumerate(self._tokens):
                if k != self._blank:
                    scores[k] = self._log_prob(history, word)
            scores[self._blank] = self._log_prob(history, "</s>")
            return scores
        words = "".join(self._tokens[k] for k in prefix).split(self._delimiter)
        history, partial = tuple(w for w in words[:-1] if w), words[-1]
        if partial:
            scores[self._delimiter_class] = self._log_prob(history, partial)
            history += (partial,)
        scores[self._blank] = scores[self._delimiter_class] + self._log_prob(history, "</s>")
        return scores

    def _log_prob(self, history: tuple[str, ...], word: str) -> float:
        """ln P(word | history), history starting at the beginning of the sentence."""
        out = self._kenlm.State()
        return float(self._model.BaseScore(self._state(history), word, out)) * _LN_10

    def _state(self, history: tuple[str, ...]) -> Any:
        """The model's state after <s> and history, memoised by history."""
        state = self._states.get(history)
        if state is None:
            state = self._kenlm.State()
            if history:
                self._model.BaseScore(self._state(history[:-1]), history[-1], state)
            else:
                self._model.BeginSentenceWrite(state)
            self._states[history] = state
        return state
