"""Beam-search timing: fastctc against TensorFlow's decoder and pyctcdecode, where installed.

Every decoder gets the same seeded inputs: the outputs of a confident recogniser
(each frame's target class, from random label sequences with blank runs, is lifted
well above Gaussian noise). TensorFlow's ``tf.nn.ctc_beam_search_decoder`` takes the
logits and uses the last class as the blank, so fastctc runs with ``blank=-1`` on the
same array; pyctcdecode decodes each sequence's log-probabilities in turn, with its
default pruning (``beam_prune_logp=-10``, ``token_min_logp=-5``). Times are medians
of ``repeats`` runs after one warm-up run; "agree" counts the sequences whose best
hypothesis equals fastctc's.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import TextIO

import numpy as np
import numpy.typing as npt

import fastctc

Decoded = list[list[int]]  # the best hypothesis of each sequence
Decoder = tuple[str, Callable[[], Decoded]]  # a name with its version, and a run


@dataclass(frozen=True)
class Timing:
    decoder: str  # name and version
    median_s: float
    ratio: float  # median time / fastctc's median time
    agree: int  # sequences whose best hypothesis equals fastctc's


def make_inputs(
    frames: int, batch: int, classes: int, seed: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Logits (T, N, C) of a confident recogniser, blank last, and input lengths."""
    rng = np.random.default_rng(seed)
    blank = classes - 1
    targets = np.full((batch, frames), blank)
    for n in range(batch):
        t = 0
        while t < frames:
            run = int(rng.integers(1, 6))
            targets[n, t : t + run] = rng.integers(0, classes) if rng.random() < 0.5 else blank
            t += run
    logits = rng.standard_normal((frames, batch, classes)) * 1.5
    logits[np.arange(frames)[:, None], np.arange(batch), targets.T] += 5.0
    lengths = rng.integers(frames * 3 // 4, frames + 1, size=batch)
    return logits.astype(np.float32), lengths.astype(np.int64)


def _median_time(run: Callable[[], Decoded], repeats: int) -> tuple[float, Decoded]:
    result = run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _fastctc(
    logits: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64], width: int, threads: int
) -> Decoder:
    def run() -> Decoded:
        results = fastctc.beam_search(
            logits, lengths, beam_width=width, blank=-1, num_threads=threads
        )
        return [h[0].tokens.tolist() if h else [] for h in results]

    return f"fastctc {fastctc.__version__}", run


def _tensorflow(
    logits: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64], width: int, threads: int
) -> Decoder | None:
    try:
        import tensorflow as tf
    except ImportError:
        return None
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already started in this process; it keeps its settings
    inputs = tf.constant(logits)
    sequence_lengths = tf.constant(lengths.astype(np.int32))

    def run() -> Decoded:
        decoded, _ = tf.nn.ctc_beam_search_decoder(
            inputs, sequence_lengths, beam_width=width, top_paths=1
        )
        dense = tf.sparse.to_dense(decoded[0], default_value=-1).numpy()
        rows = [[int(k) for k in row if k >= 0] for row in dense]
        return rows + [[]] * (logits.shape[1] - len(rows))

    return f"tensorflow {tf.__version__}", run


def _pyctcdecode(
    logits: npt.NDArray[np.float32], lengths: npt.NDArray[np.int64], width: int
) -> Decoder | None:
    try:
        from pyctcdecode import build_ctcdecoder
    except ImportError:
        return None
    classes = logits.shape[2]
    # One character per class, blank ("") last; no spaces, so no word logic.
    alphabet = [chr(0x4E00 + k) for k in range(classes - 1)] + [""]
    decoder = build_ctcdecoder(alphabet)
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    per_sequence = [log_probs[: lengths[n], n] for n in range(logits.shape[1])]

    def run() -> Decoded:
        texts = [decoder.decode(x, beam_width=width) for x in per_sequence]
        return [[ord(ch) - 0x4E00 for ch in text] for text in texts]

    return f"pyctcdecode {version('pyctcdecode')}", run


def bench_decode(
    frames: int = 200,
    batch: int = 16,
    classes: int = 30,
    beam_width: int = 16,
    threads: int = 1,
    repeats: int = 5,
    seed: int = 0,
    stream: TextIO | None = None,
) -> list[Timing]:
    """Times fastctc.beam_search and each installed peer on the same inputs; prints a
    table of median times and ratios to ``stream`` (default stdout) and returns it."""
    out = sys.stdout if stream is None else stream
    logits, lengths = make_inputs(frames, batch, classes, seed)
    decoders = [
        _fastctc(logits, lengths, beam_width, threads),
        _tensorflow(logits, lengths, beam_width, threads),
        _pyctcdecode(logits, lengths, beam_width),
    ]
    timings: list[Timing] = []
    reference: Decoded = []
    for name, run in (d for d in decoders if d is not None):
        median, decoded = _median_time(run, repeats)
        if not timings:
            reference = decoded
        base = timings[0].median_s if timings else median
        agree = sum(a == b for a, b in zip(decoded, reference))
        timings.append(Timing(name, median, median / base, agree))
    out.write(
        f"CTC beam search: T={frames} N={batch} C={classes} beam_width={beam_width} "
        f"threads={threads}, median of {repeats}\n"
    )
    out.write(f"{'decoder':<24}{'median':>12}{'vs fastctc':>14}{'agree':>10}\n")
    for t in timings:
        out.write(
            f"{t.decoder:<24}{t.median_s * 1e3:>9.2f} ms{t.ratio:>13.2f}x{t.agree:>6}/{batch}\n"
        )
    return timings
