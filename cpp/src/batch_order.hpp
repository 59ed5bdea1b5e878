// How a batch is shared out to threads: the processing order and where each
// label starts in the concatenated labels.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fastctc/ctc.h"

namespace fastctc {

// Fills order with 0..size-1 sorted by decreasing work(n), ties by index, so
// the order is a pure function of the batch: threads take the most work first.
template <typename Work>
void order_by_work(int64_t size, int64_t *order, Work work) {
    for (int64_t n = 0; n < size; ++n) order[n] = n;
    std::sort(order, order + size, [&](int64_t a, int64_t b) {
        const int64_t wa = work(a), wb = work(b);
        return wa != wb ? wa > wb : a < b;
    });
}

// label_offsets[n]: the start of sequence n's label in the concatenated labels.
inline void compute_label_offsets(const fastctc_batch &batch, int64_t *label_offsets) {
    int64_t offset = 0;
    for (int64_t n = 0; n < batch.batch_size; ++n) {
        label_offsets[n] = offset;
        offset += batch.label_lengths[n];
    }
}

// The order and label offsets of a lattice computation, whose work is the
// lattice size T_n x |l'_n|.
inline void plan_batch(const fastctc_batch &batch, int64_t *order, int64_t *label_offsets) {
    compute_label_offsets(batch, label_offsets);
    order_by_work(batch.batch_size, order,
                  [&](int64_t n) { return batch.input_lengths[n] * (2 * batch.label_lengths[n] + 1); });
}

}  // namespace fastctc
