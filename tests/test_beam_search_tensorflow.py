"""fastctc.beam_search against tf.nn.ctc_beam_search_decoder, where TensorFlow is installed.

What "equal" means: TensorFlow's decoder takes logits, applies the log-softmax,
uses the last class as the blank, and returns ln p(labelling) of each of the top
paths, so its decodings and log-probabilities are fastctc's with ``blank=-1``.
It carries one term of each update in float32 even for float64 inputs, so its
log-probabilities agree to about 1e-7, not to the last bit. When the beam is wide
enough that nothing is pruned both are exact and agree. When pruning happens,
TensorFlow's beam can differ from the true top-``beam_width`` prefixes of a frame
(a prefix evicted during a frame's update loses its previous probabilities before
its own extensions are scored); fastctc keeps the true top prefixes, so on rare
inputs the two disagree, mostly on flat (unconfident) outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastctc

tf = pytest.importorskip("tensorflow")


def _tf_beam_search(
    inputs: np.ndarray, lengths: np.ndarray, beam_width: int, top_paths: int
) -> tuple[list[list[list[int]]], np.ndarray]:
    decoded, log_probs = tf.nn.ctc_beam_search_decoder(
        inputs, lengths.astype(np.int32), beam_width=beam_width, top_paths=top_paths
    )
    paths = []
    for sparse in decoded:
        dense = tf.sparse.to_dense(sparse, default_value=-1).numpy()
        rows = [[int(k) for k in row if k >= 0] for row in dense]
        paths.append(rows + [[]] * (inputs.shape[1] - len(rows)))
    return [list(p) for p in zip(*paths)], log_probs.numpy()


@pytest.mark.parametrize(("frames", "classes"), [(3, 3), (5, 3), (4, 4), (7, 2)])
def test_equal_to_tensorflow_when_nothing_is_pruned(
    rng: np.random.Generator, frames: int, classes: int
) -> None:
    inputs = rng.standard_normal((frames, 5, classes)) * 2
    lengths = np.array([frames, frames - 1, 3, frames, 3])  # each with 3 labellings or more
    width = sum((classes - 1) ** k for k in range(frames + 1))  # every prefix fits
    top = 3
    expected_paths, expected_log_probs = _tf_beam_search(inputs, lengths, width, top)
    results = fastctc.beam_search(inputs, lengths, beam_width=width, top_paths=top, blank=-1)
    for n, hypotheses in enumerate(results):
        # TensorFlow pads missing hypotheses; compare those it found with probability.
        found = [p for p, lp in zip(expected_paths[n], expected_log_probs[n]) if lp > -np.inf]
        assert [h.tokens.tolist() for h in hypotheses][: len(found)] == found
        np.testing.assert_allclose(
            [h.log_prob for h in hypotheses][: len(found)],
            expected_log_probs[n][: len(found)],
            rtol=1e-6,
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_same_decodings_as_tensorflow_on_confident_outputs(
    rng: np.random.Generator, dtype: type
) -> None:
    # Peaked outputs, as from a trained network, with a beam that prunes.
    frames, batch, classes = 60, 40, 12
    inputs = (rng.standard_normal((frames, batch, classes)) * 6).astype(dtype)
    lengths = rng.integers(frames // 2, frames + 1, size=batch)
    expected_paths, _ = _tf_beam_search(inputs, lengths, 16, 2)
    results = fastctc.beam_search(inputs, lengths, beam_width=16, top_paths=2, blank=-1)
    # The decodings agree; the log-probabilities of a pruned search can differ a
    # little, where the two beams kept different prefixes along the way (see above).
    for n, hypotheses in enumerate(results):
        assert hypotheses[0].tokens.tolist() == expected_paths[n][0]
