// How a batch is shared out to threads: the processing order and where each
// label starts in the concatenated labels.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fastctc/ctc.h"
#include "scratch.hpp"

namespace fastctc {

// Whether a (with work_a) goes before b (with work_b): most work first, ties by
// position, so that an order is a pure function of the batch.
inline bool more_work_first(int64_t work_a, int64_t work_b, int64_t a, int64_t b) {
    return work_a != work_b ? work_a > work_b : a < b;
}

// Fills order with 0..size-1 sorted by decreasing work(n), ties by index:
// threads take the most work first.
template <typename Work>
void order_by_work(int64_t size, int64_t *order, Work work) {
    for (int64_t n = 0; n < size; ++n) order[n] = n;
    std::sort(order, order + size, [&](int64_t a, int64_t b) { return more_work_first(work(a), work(b), a, b); });
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

// The units of work of a loss batch, from plan_loss_batch().
struct LossPlan {
    int64_t units = 0;         // how many
    int64_t wide_grouped = 0;  // a unit starting below this position of order is a group of kWideGroup,
    int64_t grouped = 0;       // else below this a group of kGroupSize
};

// Plans a loss batch: with grouping, the first wide_grouped groupable()
// sequences (most frames first, so that a group's lanes run about as long) in
// groups of kWideGroup, the other groupable ones in groups of kGroupSize, then
// single sequences; the units most work first.  order receives the units'
// sequences one after another, unit_starts where each unit starts in order.
inline LossPlan plan_loss_batch(const fastctc_batch &batch, bool grouping, int64_t wide_grouped, int64_t *order,
                                int64_t *unit_starts, int64_t *label_offsets) {
    const int64_t size = batch.batch_size;
    const int64_t *frames = batch.input_lengths, *labels = batch.label_lengths;
    const auto work = [&](int64_t n) { return frames[n] * (2 * labels[n] + 1); };
    const auto in_group = [&](int64_t n) { return grouping && groupable(frames[n], labels[n]); };
    compute_label_offsets(batch, label_offsets);
    for (int64_t n = 0; n < size; ++n) order[n] = n;
    std::sort(order, order + size, [&](int64_t a, int64_t b) {
        const bool group_a = in_group(a), group_b = in_group(b);
        if (group_a != group_b) return group_a;
        if (group_a && frames[a] != frames[b]) return frames[a] > frames[b];
        if (group_a && labels[a] != labels[b]) return labels[a] > labels[b];
        return more_work_first(work(a), work(b), a, b);
    });
    LossPlan plan;
    for (int64_t n = 0; n < size; ++n) plan.grouped += in_group(n);
    plan.grouped -= plan.grouped % kGroupSize;
    plan.wide_grouped = wide_grouped;  // a multiple of kWideGroup, at most plan.grouped
    const auto unit_size = [&](int64_t start) {
        return start < plan.wide_grouped ? int64_t(kWideGroup) : start < plan.grouped ? int64_t(kGroupSize) : 1;
    };
    for (int64_t start = 0; start < size; start += unit_size(start)) unit_starts[plan.units++] = start;
    const auto unit_work = [&](int64_t start) {
        int64_t total = 0;
        for (int64_t i = start; i < start + unit_size(start); ++i) total += work(order[i]);
        return total;
    };
    std::sort(unit_starts, unit_starts + plan.units,
              [&](int64_t a, int64_t b) { return more_work_first(unit_work(a), unit_work(b), a, b); });
    return plan;
}

}  // namespace fastctc
