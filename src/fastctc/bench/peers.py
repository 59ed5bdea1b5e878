"""fastctc and every CTC implementation installed beside it, behind one interface.

Each peer computes, on the same logits, the sum of the per-sequence losses and its
gradient with respect to the logits, in its framework's fastest ordinary way:

- PyTorch: ``log_softmax`` + ``F.ctc_loss(reduction="sum")`` + ``backward``;
- TensorFlow: ``tf.nn.ctc_loss`` on the logits under a ``GradientTape``, in a
  ``tf.function``, with dense labels and with a ``SparseTensor`` (which takes
  TensorFlow's other kernel);
- JAX: ``jax.jit(jax.value_and_grad)`` of ``optax.ctc_loss``, compiled before timing.

Conversions into a framework's tensors happen before timing; a timed call returns
once its result is ready.  Thread counts: fastctc's ``num_threads``, PyTorch's
``set_num_threads``, TensorFlow's intra- and inter-op pools (set before its first
op); XLA sizes its CPU pool itself (all cores; with one thread,
``--xla_cpu_multi_thread_eigen=false``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

import fastctc
from fastctc.bench.problems import Problem

Result = tuple[float, "np.ndarray | None"]  # the loss sum and the logits gradient (T, N, C)


@dataclass(frozen=True)
class Prepared:
    run: Callable[[], Any]  # the timed call
    fetch: Callable[[Any], Result]  # run()'s result as NumPy, untimed


@dataclass(frozen=True)
class Peer:
    name: str  # with its version
    prepare: Callable[[Problem, bool], Prepared]  # (problem, loss_only)


def fastctc_peer(threads: int) -> Peer:
    def prepare(p: Problem, loss_only: bool) -> Prepared:
        args = (p.logits, p.labels, p.input_lengths, p.label_lengths)
        if loss_only:
            return Prepared(
                lambda: fastctc.ctc_loss(*args, reduction="sum", num_threads=threads),
                lambda r: (float(r), None),
            )
        grad_out = np.empty_like(p.logits)  # reused across calls, as a training loop would
        return Prepared(
            lambda: fastctc.ctc_loss_and_grad(
                *args, reduction="sum", num_threads=threads, grad_out=grad_out
            ),
            lambda r: (float(r[0]), r[1]),
        )

    return Peer(f"fastctc {fastctc.__version__}", prepare)


def _torch(threads: int) -> Peer:
    import torch

    torch.set_num_threads(threads)
    functional = torch.nn.functional

    def prepare(p: Problem, loss_only: bool) -> Prepared:
        x = torch.from_numpy(p.logits)
        targets, input_lengths, label_lengths = (
            torch.from_numpy(a) for a in (p.labels, p.input_lengths, p.label_lengths)
        )

        def loss_of(logits: Any) -> Any:
            log_probs = functional.log_softmax(logits, dim=-1)
            return functional.ctc_loss(
                log_probs, targets, input_lengths, label_lengths, reduction="sum"
            )

        def run() -> Any:
            if loss_only:
                with torch.no_grad():
                    return loss_of(x), None
            leaf = x.detach().requires_grad_(True)
            loss = loss_of(leaf)
            loss.backward()
            return loss, leaf.grad

        return Prepared(
            run, lambda r: (r[0].detach().item(), None if r[1] is None else r[1].numpy())
        )

    return Peer(f"PyTorch {version('torch')}", prepare)


def _tensorflow(threads: int, sparse: bool) -> Peer:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised (the second TensorFlow peer)
        pass

    def prepare(p: Problem, loss_only: bool) -> Prepared:
        logits = tf.constant(p.logits)
        logit_length = tf.constant(p.input_lengths.astype(np.int32))
        if sparse:
            used = np.arange(p.labels.shape[1]) < p.label_lengths[:, None]
            labels: Any = tf.SparseTensor(
                np.argwhere(used).astype(np.int64),
                p.labels[used].astype(np.int32),
                np.array(p.labels.shape, np.int64),
            )
            label_length = None
        else:
            labels = tf.constant(p.labels.astype(np.int32))
            label_length = tf.constant(p.label_lengths.astype(np.int32))

        def loss_of(x: Any) -> Any:
            losses = tf.nn.ctc_loss(
                labels, x, label_length, logit_length, logits_time_major=True, blank_index=0
            )
            return tf.reduce_sum(losses)

        def loss_and_grad(x: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = loss_of(x)
            return loss, tape.gradient(loss, x)

        if loss_only:
            function = tf.function(loss_of)
            return Prepared(lambda: function(logits), lambda r: (float(r.numpy()), None))
        compiled = tf.function(loss_and_grad)
        return Prepared(lambda: compiled(logits), lambda r: (float(r[0].numpy()), r[1].numpy()))

    labels_kind = "sparse" if sparse else "dense"
    return Peer(f"TensorFlow {tf.__version__} ({labels_kind} labels)", prepare)


def _jax(threads: int, dtype: type) -> Peer:
    if threads == 1:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    import jax
    import optax

    if dtype == np.float64:
        jax.config.update("jax_enable_x64", True)

    def prepare(p: Problem, loss_only: bool) -> Prepared:
        frames, _, _ = p.logits.shape
        width = p.labels.shape[1]
        logits = jax.numpy.asarray(np.ascontiguousarray(p.logits.transpose(1, 0, 2)))
        logit_paddings = (np.arange(frames) >= p.input_lengths[:, None]).astype(p.logits.dtype)
        label_paddings = (np.arange(width) >= p.label_lengths[:, None]).astype(p.logits.dtype)
        labels = p.labels.astype(np.int32)

        def total(x: Any) -> Any:
            return optax.ctc_loss(x, logit_paddings, labels, label_paddings, blank_id=0).sum()

        function = jax.jit(total if loss_only else jax.value_and_grad(total))
        jax.block_until_ready(function(logits))  # compile now, not while timing

        def fetch(r: Any) -> Result:
            if loss_only:
                return float(r), None
            return float(r[0]), np.asarray(r[1]).transpose(1, 0, 2)

        return Prepared(lambda: jax.block_until_ready(function(logits)), fetch)

    return Peer(f"JAX {version('jax')} + optax {version('optax')}", prepare)


def installed_peers(threads: int, dtype: type) -> list[Peer]:
    """fastctc first, then each peer whose framework is installed and takes dtype."""
    peers = [fastctc_peer(threads)]
    if importlib.util.find_spec("torch"):
        peers.append(_torch(threads))
    if importlib.util.find_spec("tensorflow") and dtype == np.float32:  # its CTC: float32 only
        peers += [_tensorflow(threads, sparse=False), _tensorflow(threads, sparse=True)]
    if importlib.util.find_spec("jax") and importlib.util.find_spec("optax"):
        peers.append(_jax(threads, dtype))
    return peers
