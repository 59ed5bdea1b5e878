"""``python -m fastctc demo``: train a small NumPy recogniser with fastctc's CTC loss.

The task: frames of noisy 16-dimensional features spell random digit strings. Each
digit (and the silence between digits) has a prototype vector; a digit lasts 2-5
frames, silences 0-2 frames (at least one between two equal digits), and every
frame is its prototype plus Gaussian noise. Nothing says where a digit starts: CTC
learns the alignment. The model is a one-hidden-layer network over a window of
three frames, trained with Adam on ``fastctc.ctc_loss_and_grad``'s gradient with
respect to its logits, back-propagated by hand in NumPy.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

import fastctc

Array = npt.NDArray[np.float64]
BLANK = 0  # class 0 is the blank; digit d is class d + 1
NUM_CLASSES = 11
FEATURES = 16
CONTEXT = 3  # frames t-1, t, t+1


@dataclass
class Dataset:
    features: list[Array]  # one (frames, FEATURES) array per utterance
    labels: list[npt.NDArray[np.int64]]  # class ids, 1..10


@dataclass
class DemoResult:
    epoch_losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    held_out_accuracy: list[float] = field(default_factory=list)  # exact-match rate per epoch


def make_dataset(rng: np.random.Generator, prototypes: Array, size: int, noise: float) -> Dataset:
    features, labels = [], []
    for _ in range(size):
        digits = rng.integers(1, NUM_CLASSES, size=int(rng.integers(2, 7)))
        frames: list[int] = [BLANK] * int(rng.integers(0, 3))
        for i, digit in enumerate(digits):
            if i > 0:
                frames += [BLANK] * int(rng.integers(1 if digit == digits[i - 1] else 0, 3))
            frames += [int(digit)] * int(rng.integers(2, 6))
        frames += [BLANK] * int(rng.integers(0, 3))
        features.append(prototypes[frames] + noise * rng.standard_normal((len(frames), FEATURES)))
        labels.append(digits.astype(np.int64))
    return Dataset(features, labels)


def pad_batch(utterances: list[Array]) -> tuple[Array, npt.NDArray[np.int64]]:
    """(N, T, CONTEXT * FEATURES) windows of frames, zero-padded, and the lengths."""
    lengths = np.array([len(u) for u in utterances], dtype=np.int64)
    frames = np.zeros((len(utterances), int(lengths.max()) + 2, FEATURES))
    for n, utterance in enumerate(utterances):
        frames[n, 1 : 1 + len(utterance)] = utterance
    windows = np.concatenate([frames[:, k : k + frames.shape[1] - 2] for k in range(CONTEXT)], -1)
    return windows, lengths


class Recogniser:
    """logits = tanh(x W1 + b1) W2 + b2, trained with Adam."""

    def __init__(self, rng: np.random.Generator, hidden: int = 64, learning_rate: float = 0.002):
        inputs = CONTEXT * FEATURES
        self.params = {
            "W1": rng.standard_normal((inputs, hidden)) / np.sqrt(inputs),
            "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, NUM_CLASSES)) / np.sqrt(hidden),
            "b2": np.zeros(NUM_CLASSES),
        }
        self.learning_rate = learning_rate
        self._moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in self.params.items()}
        self._steps = 0

    def forward(self, x: Array) -> tuple[Array, Array]:
        hidden = np.tanh(x @ self.params["W1"] + self.params["b1"])
        return hidden @ self.params["W2"] + self.params["b2"], hidden

    def train_step(self, x: Array, labels: list[Any], lengths: npt.NDArray[np.int64]) -> float:
        logits, hidden = self.forward(x)
        loss, grad = fastctc.ctc_loss_and_grad(
            logits, labels, lengths, blank=BLANK, layout="NTC", reduction="mean"
        )
        # Back-propagation; padded frames have a zero gradient and drop out.
        grad_hidden = (grad @ self.params["W2"].T) * (1.0 - hidden**2)
        grads = {
            "W2": np.einsum("nth,ntc->hc", hidden, grad),
            "b2": grad.sum(axis=(0, 1)),
            "W1": np.einsum("nti,nth->ih", x, grad_hidden),
            "b1": grad_hidden.sum(axis=(0, 1)),
        }
        self._adam(grads)
        return float(loss)

    def _adam(self, grads: dict[str, Array], beta1: float = 0.9, beta2: float = 0.999) -> None:
        self._steps += 1
        for name, g in grads.items():
            m, v = self._moments[name]
            m[...] = beta1 * m + (1 - beta1) * g
            v[...] = beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**self._steps)
            v_hat = v / (1 - beta2**self._steps)
            self.params[name] -= self.learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)


def _spell(classes: Any) -> str:
    return " ".join(str(int(k) - 1) for k in classes)


def _progress(stream: TextIO, epoch: int, epochs: int, done: int, total: int, loss: float) -> None:
    """Redraws the epoch's progress bar on a terminal; elsewhere writes only its last state."""
    if done < total and not stream.isatty():
        return
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    stream.write(f"\repoch {epoch:2d}/{epochs} [{bar}] {done:3d}/{total} batches  loss {loss:7.3f}")
    stream.flush()


def run_demo(
    epochs: int = 12,
    train_size: int = 2000,
    held_out_size: int = 200,
    batch_size: int = 32,
    noise: float = 0.9,
    seed: int = 0,
    stream: TextIO | None = None,
    show: int = 8,
) -> DemoResult:
    """Trains the recogniser and reports progress on ``stream`` (default: stdout);
    returns the history."""
    stream = sys.stdout if stream is None else stream
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((NUM_CLASSES, FEATURES))
    train = make_dataset(rng, prototypes, train_size, noise)
    held_out = make_dataset(rng, prototypes, held_out_size, noise)
    held_out_x, held_out_lengths = pad_batch(held_out.features)
    model = Recogniser(rng)
    result = DemoResult()
    solved: set[int] = set()
    start = time.perf_counter()
    stream.write(
        f"fastctc {fastctc.__version__} demo: {train_size} noisy digit strings, "
        f"{NUM_CLASSES} classes (blank + 10 digits), {epochs} epochs\n"
    )
    batches = (train_size + batch_size - 1) // batch_size
    for epoch in range(1, epochs + 1):
        order = rng.permutation(train_size)
        losses = []
        for b in range(batches):
            chosen = order[b * batch_size : (b + 1) * batch_size]
            x, lengths = pad_batch([train.features[i] for i in chosen])
            losses.append(model.train_step(x, [train.labels[i] for i in chosen], lengths))
            _progress(stream, epoch, epochs, b + 1, batches, float(np.mean(losses)))
        logits, _ = model.forward(held_out_x)
        hypotheses = fastctc.greedy_decode(logits, held_out_lengths, blank=BLANK, layout="NTC")
        decoded = [hypothesis.tokens.tolist() for hypothesis in hypotheses]
        correct = [decoded[n] == held_out.labels[n].tolist() for n in range(held_out_size)]
        result.epoch_losses.append(float(np.mean(losses)))
        result.held_out_accuracy.append(float(np.mean(correct)))
        stream.write(f"  held-out exact {100 * np.mean(correct):5.1f}%\n")
        for n in range(min(show, held_out_size)):
            if correct[n] and n not in solved:
                solved.add(n)
                stream.write(f"    sample {n}: now reads '{_spell(decoded[n])}' correctly\n")
    stream.write(f"done in {time.perf_counter() - start:.1f} s\n")
    return result
