"""The CTC prefix beam search written out literally, for the tests.

One frame at a time, with a dict from each prefix in the beam to its (p_b, p_nb),
the probabilities of its paths ending in a blank and in its last label (log space):

    p_b(l)  <- (p_b(l) + p_nb(l)) y_blank
    p_nb(l) <- (p_nb(l) + ext(l[:-1], l[-1])) y_{l[-1]}     (ext only if l[:-1] is in the beam)
    p_nb(l + k) <- ext(l, k) y_k                            for l + k not in the beam
    ext(l, k) = p_b(l) if l ends in k, else p_b(l) + p_nb(l)

then the beam_width prefixes of highest rank ln(p_b + p_nb) + lm(l) are kept (ties:
prefixes carried over first, in beam order, then new ones by parent and class, as in
the core). lm(l) sums weight * score(l[:i])[l[i]] + bonus over l's tokens; the end
score weight * score(l)[blank] is added at the end. A token's frame is the frame at
which its prefix first entered the beam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Prefix = tuple[int, ...]


def _log_add(a: float, b: float) -> float:
    return float(np.logaddexp(a, b))


def _ext(beam: dict[Prefix, tuple[float, float]], prefix: Prefix, k: int) -> float:
    """ext(l, k): the mass of l that can be followed by k (not p_nb if l ends in k)."""
    p_b, p_nb = beam[prefix]
    return p_b if prefix and prefix[-1] == k else _log_add(p_b, p_nb)


def prefix_beam_search(
    log_y: np.ndarray,
    beam_width: int,
    blank: int,
    *,
    score: Callable[[Prefix], np.ndarray] | None = None,
    weight: float = 1.0,
    bonus: float = 0.0,
    prune_logp: float | None = None,
) -> list[tuple[Prefix, list[int], float, float]]:
    """All final hypotheses, best first: (tokens, frames, log_prob, score)."""
    frames, classes = log_y.shape
    beam: dict[Prefix, tuple[float, float]] = {(): (0.0, -np.inf)}
    lm: dict[Prefix, float] = {(): 0.0}
    entered: dict[Prefix, int] = {(): -1}

    def step_lm(prefix: Prefix, k: int) -> float:
        return 0.0 if score is None else weight * float(score(prefix)[k]) + bonus

    for t in range(frames):
        y = log_y[t]
        order = sorted(
            (
                k
                for k in range(classes)
                if k != blank and (prune_logp is None or y[k] >= prune_logp)
            ),
            key=lambda k: (-y[k], k),
        )
        candidates: list[tuple[float, int, Prefix, float, float]] = []  # rank, order, ...

        for prefix, (p_b, p_nb) in beam.items():
            blank_mass = _log_add(p_b, p_nb) + y[blank]
            label_mass = -np.inf
            if prefix:
                mass = p_nb
                if prefix[:-1] in beam:
                    mass = _log_add(mass, _ext(beam, prefix[:-1], prefix[-1]))
                label_mass = mass + y[prefix[-1]]
            rank = _log_add(blank_mass, label_mass) + lm[prefix]
            candidates.append((rank, len(candidates), prefix, blank_mass, label_mass))
        for prefix in list(beam):
            for k in order:
                child = (*prefix, k)
                if child in beam:
                    continue
                label_mass = _ext(beam, prefix, k) + y[k]
                lm.setdefault(child, lm[prefix] + step_lm(prefix, k))
                candidates.append(
                    (label_mass + lm[child], len(candidates), child, -np.inf, label_mass)
                )
        kept = sorted((c for c in candidates if c[0] > -np.inf), key=lambda c: (-c[0], c[1]))
        beam = {c[2]: (c[3], c[4]) for c in kept[:beam_width]}
        for prefix in beam:
            entered.setdefault(prefix, t)
    results = []
    for prefix, (p_b, p_nb) in beam.items():
        total = _log_add(p_b, p_nb)
        end = 0.0 if score is None else weight * float(score(prefix)[blank])
        token_frames = [entered[prefix[: i + 1]] for i in range(len(prefix))]
        results.append((prefix, token_frames, total, total + lm[prefix] + end))
    return sorted((r for r in results if r[3] > -np.inf), key=lambda r: -r[3])
