# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Labels and lengths checked and packed for the core in one compiled pass.

_api._prepare_targets() takes this path for the usual arguments (NumPy arrays of
int32 or int64 labels and int64 lengths). Called between native calls, which
leave the caches cold for the interpreter, its general path of a dozen NumPy
calls took 38 microseconds (T=150 N=32, padded labels) to 142 (N=400 with
lengths: BENCHMARKS.md, fourteenth session); this one makes the same arrays in
C loops.

It only detects: where any value is out of range it returns None, and the
general path checks the arguments again, in its own order, and raises the one
message naming the argument, index and value. So every message has one source.
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t


ctypedef fused label_t:
    int32_t
    int64_t


cdef bint copy_within(const int64_t[:] lengths, int64_t default, int64_t upper, int64_t[::1] out) noexcept nogil:
    # out = lengths (or default everywhere where lengths is None); whether each is in [0, upper].
    cdef Py_ssize_t n
    cdef int64_t length
    for n in range(out.shape[0]):
        length = default if lengths is None else lengths[n]
        if length < 0 or length > upper:
            return False
        out[n] = length
    return True


cdef bint pack(const label_t[:, :] labels, bint concatenated, const int64_t[::1] label_lengths,
               int64_t num_classes, int64_t blank, int32_t[::1] packed) noexcept nogil:
    # Sequence n's labels: row n of a padded array, or the next label_lengths[n]
    # entries of a concatenation (its one row).
    cdef Py_ssize_t n, j, row, start = 0, out = 0
    cdef int64_t value
    for n in range(label_lengths.shape[0]):
        row = 0 if concatenated else n
        for j in range(label_lengths[n]):
            value = labels[row, start + j]
            if value < 0 or value >= num_classes or value == blank:
                return False
            packed[out] = <int32_t>value
            out += 1
        if concatenated:
            start += label_lengths[n]
    return True


def pack_targets(const label_t[:, :] labels, bint concatenated, const int64_t[:] label_lengths,
                 const int64_t[:] input_lengths, Py_ssize_t batch_size, int64_t max_time,
                 int64_t num_classes, int64_t blank):
    """(labels, input_lengths, label_lengths) for the core, or None.

    labels: (N, S) padded, or (1, total) holding the concatenation; label_lengths
    and input_lengths: (N,) int64, or None for every row whole and every input T
    frames (label_lengths is required with a concatenation). None where a shape,
    a length or a used label is not what the core takes. The lengths are copied:
    the core reads them without the GIL, while the caller's arrays may change.
    """
    if label_lengths is not None and label_lengths.shape[0] != batch_size:
        return None
    if input_lengths is not None and input_lengths.shape[0] != batch_size:
        return None
    if concatenated and label_lengths is None or not concatenated and labels.shape[0] != batch_size:
        return None
    checked_inputs = np.empty(batch_size, dtype=np.int64)
    checked_labels = np.empty(batch_size, dtype=np.int64)
    cdef int64_t[::1] input_view = checked_inputs, label_view = checked_labels
    # A concatenation's lengths may each be up to its whole; their sum must be it.
    cdef int64_t width = labels.shape[1], total = 0
    cdef Py_ssize_t n
    if not copy_within(input_lengths, max_time, max_time, input_view):
        return None
    if not copy_within(label_lengths, width, width, label_view):
        return None
    for n in range(batch_size):
        if concatenated and label_view[n] > width - total:  # past the end, and no overflow
            return None
        total += label_view[n]
    if concatenated and total != width:
        return None
    packed = np.empty(total, dtype=np.int32)
    cdef int32_t[::1] packed_view = packed
    if not pack(labels, concatenated, label_view, num_classes, blank, packed_view):
        return None
    return packed, checked_inputs, checked_labels
