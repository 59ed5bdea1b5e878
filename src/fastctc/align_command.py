"""``python -m fastctc align``: where each token of a transcript sits in an utterance.

Reads a (T, C) array of per-frame log-probabilities (or logits) from a ``.npy`` file,
an alphabet (class k spelled by the k-th token) and a transcript, force-aligns the
transcript, and prints its token spans as a table. ``--plot out.png`` also draws the
posterior occupancy of every label state with the best path over it (needs matplotlib,
imported only then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

import fastctc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", help="a .npy file of shape (T, C): per-frame log-probabilities")
    parser.add_argument("--transcript", required=True, help="the text to align")
    parser.add_argument(
        "--alphabet",
        required=True,
        help="a file with one token per line (line k spells class k), or else a string "
        "whose k-th character spells class k",
    )
    parser.add_argument("--blank", type=int, default=0, help="the blank class (default 0)")
    parser.add_argument(
        "--logits", action="store_true", help="the array holds logits, not log-probabilities"
    )
    parser.add_argument(
        "--frame-duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds per frame: adds start and end times to the table",
    )
    parser.add_argument("--plot", metavar="PNG", help="draw the posteriors and the path here")


def load_alphabet(spec: str) -> list[str]:
    """The tokens of an alphabet file (one per line), or the characters of spec."""
    path = Path(spec)
    if path.is_file():
        return path.read_text(encoding="utf-8").split("\n")[:-1] or [""]
    return list(spec)


def tokenize(text: str, alphabet: list[str], blank: int) -> list[int]:
    """The classes spelling text, taking the longest matching token at each step."""
    by_length = sorted(
        ((token, k) for k, token in enumerate(alphabet) if token and k != blank),
        key=lambda item: -len(item[0]),
    )
    classes, i = [], 0
    while i < len(text):
        match = next(((t, k) for t, k in by_length if text.startswith(t, i)), None)
        if match is None:
            raise ValueError(f"transcript[{i}] = {text[i]!r} is not spelled by any token")
        classes.append(match[1])
        i += len(match[0])
    return classes


def _shown(token: str) -> str:
    """A token as printed: quoted when it is whitespace, which would not show."""
    return token if token.strip() else repr(token)


def span_table(spans: fastctc.TokenSpans, alphabet: list[str], frame_duration: float | None) -> str:
    header = ["pos", "token", "start", "end", "frames", "score"]
    if frame_duration is not None:
        header += ["start_s", "end_s"]
    rows = [header]
    for j in range(len(spans)):
        start, end = int(spans.start[j]), int(spans.end[j])
        row = [
            str(j),
            _shown(alphabet[int(spans.token[j])]),
            str(start),
            str(end),
            str(end - start),
            f"{float(spans.score[j]):.4f}",
        ]
        if frame_duration is not None:
            row += [f"{start * frame_duration:.3f}", f"{end * frame_duration:.3f}"]
        rows.append(row)
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows
    )


def plot_alignment(
    path: str,
    state_posteriors: npt.NDArray[np.floating[Any]],
    states: npt.NDArray[np.int64],
    state_names: list[str],
) -> None:
    """Saves a picture: state occupancy (states x frames) with the path over it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("--plot needs matplotlib: pip install matplotlib") from error
    frames, num_states = state_posteriors.shape
    figure, axes = plt.subplots(figsize=(max(6.0, frames / 8), max(3.0, num_states / 4)))
    image = axes.imshow(
        state_posteriors.T, origin="lower", aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0
    )
    axes.plot(np.arange(frames), states, color="white", linewidth=1.5, label="best path")
    axes.set_yticks(np.arange(num_states), state_names)
    axes.set_xlabel("frame")
    axes.set_ylabel("label state")
    axes.legend(loc="upper left")
    figure.colorbar(image, ax=axes, label="posterior occupancy")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def run_align(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    out = sys.stdout if stream is None else stream
    scores = np.load(args.inputs)
    if scores.ndim != 2:
        raise ValueError(f"Expected {args.inputs} to hold a (T, C) array, got shape {scores.shape}")
    alphabet = load_alphabet(args.alphabet)
    if len(alphabet) != scores.shape[1]:
        raise ValueError(
            f"the alphabet has {len(alphabet)} tokens but {args.inputs} has C={scores.shape[1]}"
        )
    label = tokenize(args.transcript, alphabet, args.blank % len(alphabet))
    inputs = scores[:, None, :]
    options: dict[str, Any] = {"blank": args.blank, "log_probs": not args.logits}
    alignment = fastctc.forced_align(inputs, [label], **options)
    spans = alignment.spans[0]
    if spans is None:
        print(
            f"error: the transcript ({len(label)} tokens) has no alignment to the "
            f"{scores.shape[0]} frames (too few frames, or a token of probability zero)",
            file=sys.stderr,
        )
        return 1
    log_likelihood = -float(fastctc.ctc_loss(inputs, [label], **options)[0])
    out.write(
        f"{len(label)} tokens over {scores.shape[0]} frames; ln p(best path) = "
        f"{float(alignment.scores[0]):.4f}, ln p(transcript) = {log_likelihood:.4f}\n"
    )
    out.write(span_table(spans, alphabet, args.frame_duration) + "\n")
    if args.plot:
        posteriors = fastctc.ctc_posteriors(inputs, [label], **options)
        blank_name = "<blank>"
        names = [
            blank_name if s % 2 == 0 else alphabet[label[s // 2]] for s in range(2 * len(label) + 1)
        ]
        plot_alignment(args.plot, posteriors.states[:, 0], alignment.states[0], names)
        out.write(f"wrote {args.plot}\n")
    return 0
