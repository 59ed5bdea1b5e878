// The common frame of a batch workspace: a shared part (the processing order
// and the label offsets, N entries each) followed by one scratch region per
// thread, each laid out by a ByteCounter of the caller's own.
#pragma once

#include <cstddef>
#include <cstdint>

#include "byte_counter.hpp"
#include "fastctc/ctc.h"

namespace fastctc {

struct BatchLayout {
    size_t order = 0;           // int64_t[N]: sequences, most work first
    size_t label_offsets = 0;   // int64_t[N]: where each label starts
    size_t scratch = 0;         // the first thread's region
    size_t scratch_stride = 0;  // bytes from one thread's region to the next
    size_t total_bytes = 0;     // including slack to align an unaligned workspace

    void *region(void *base, int thread) const {
        return static_cast<char *>(base) + scratch + size_t(thread) * scratch_stride;
    }
};

// Lays out the shared part and `threads` copies of region; fails only on
// size overflow (including an overflow already recorded in region).
inline fastctc_status plan_batch_layout(int64_t batch_size, const ByteCounter &region, int threads,
                                        BatchLayout *layout) {
    BatchLayout l;
    l.scratch_stride = region.size();
    ByteCounter whole;
    l.order = whole.reserve(uint64_t(batch_size), sizeof(int64_t));
    l.label_offsets = whole.reserve(uint64_t(batch_size), sizeof(int64_t));
    l.scratch = whole.size();
    size_t scratch_bytes = 0;
    if (!checked_mul<size_t>(l.scratch_stride, size_t(threads), &scratch_bytes)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    whole.add(scratch_bytes);
    whole.add(kAlignment - 1);  // slack to align the caller's pointer
    if (region.overflowed() || whole.overflowed()) return FASTCTC_STATUS_SIZE_OVERFLOW;
    l.total_bytes = whole.size();
    *layout = l;
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace fastctc
