"""CTC by its definition: enumerate every path, collapse it, sum the matching ones.

Graves et al. 2006, eqs. (1)-(2): p(l|x) is the sum over all paths pi with
B(pi) = l of prod_t y[t, pi_t], where B merges repeats, then drops blanks.
Exponential in T: for tiny cases only (C**T paths).
"""

from __future__ import annotations

import itertools

import numpy as np


def collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def enumerate_alignments(log_y: np.ndarray, label, blank: int) -> tuple[float, np.ndarray]:
    """ln p(l|x) and occupancy[t, k] = P(pi_t = k | B(pi) = l), by enumeration."""
    frames, classes = log_y.shape
    label = tuple(int(k) for k in label)
    total = 0.0
    weighted = np.zeros((frames, classes))
    for path in itertools.product(range(classes), repeat=frames):
        if collapse(path, blank) != label:
            continue
        p = float(np.exp(sum(log_y[t, k] for t, k in enumerate(path))))
        total += p
        weighted[np.arange(frames), list(path)] += p
    if total == 0.0:
        return -np.inf, np.zeros((frames, classes))
    return float(np.log(total)), weighted / total


def path_log_prob(log_y: np.ndarray, path: tuple[int, ...]) -> float:
    return float(sum(log_y[t, k] for t, k in enumerate(path)))


def best_path(log_y: np.ndarray, label, blank: int) -> tuple[float, tuple[int, ...] | None]:
    """The most probable path pi with B(pi) = l and its log-probability, by enumeration;
    (-inf, None) when no path of nonzero probability spells l."""
    frames, classes = log_y.shape
    label = tuple(int(k) for k in label)
    best: tuple[float, tuple[int, ...] | None] = (-np.inf, None)
    for path in itertools.product(range(classes), repeat=frames):
        if collapse(path, blank) == label:
            score = path_log_prob(log_y, path)
            if score > best[0]:
                best = (score, path)
    return best


def labelling_log_probs(log_y: np.ndarray, blank: int) -> dict[tuple[int, ...], float]:
    """ln p(l|x) of every labelling l that some path spells, by enumeration."""
    frames, classes = log_y.shape
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(classes), repeat=frames):
        label = collapse(path, blank)
        totals[label] = totals.get(label, 0.0) + float(np.exp(path_log_prob(log_y, path)))
    return {label: float(np.log(p)) for label, p in totals.items() if p > 0.0}


def state_path(path: tuple[int, ...], blank: int) -> list[int]:
    """The states of l' (0-based: blank 2j, label j at 2j + 1) that a path spelling
    some label passes through: a label class entering a new run is the next label."""
    states, emitted, previous = [], 0, blank
    for k in path:
        if k == blank:
            states.append(2 * emitted)
        else:
            if k != previous:
                emitted += 1
            states.append(2 * emitted - 1)
        previous = k
    return states


def enumerate_state_occupancy(log_y: np.ndarray, label, blank: int) -> np.ndarray:
    """gamma[t, s] = P(the path is in state s of l' at frame t | B(path) = l)."""
    frames, classes = log_y.shape
    label = tuple(int(k) for k in label)
    weighted = np.zeros((frames, 2 * len(label) + 1))
    for path in itertools.product(range(classes), repeat=frames):
        if collapse(path, blank) == label:
            weighted[np.arange(frames), state_path(path, blank)] += np.exp(
                path_log_prob(log_y, path)
            )
    total = weighted[0].sum() if frames else 0.0
    return weighted / total if total > 0 else weighted
