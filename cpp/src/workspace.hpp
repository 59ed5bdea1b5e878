// The layout of the caller-owned workspace.
//
// One plan serves both fastctc_workspace_size() and the compute calls, so
// the size reported is exactly the size used.  The workspace holds a shared
// part (the processing order and label offsets, N entries each) and one
// scratch region per thread, sized for the largest sequence of the batch:
// memory is O(threads x longest sequence), independent of the batch size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "byte_counter.hpp"
#include "fastctc/ctc.h"
#include "sequence.hpp"

namespace fastctc {

// The largest sequence of a batch, which sizes every per-thread scratch region.
struct Extents {
    int64_t frames = 0;   // longest input
    int64_t states = 1;   // longest extended label
    int64_t lattice = 0;  // largest frames x states
};

// Fills *out from a validated batch; false when a size overflows int64_t.
bool batch_extents(const fastctc_batch &batch, Extents *out);

struct WorkspaceLayout {
    int num_threads = 1;
    // Byte offsets from the aligned base of the workspace.
    size_t order = 0;          // int64_t[N]: sequences, most work first
    size_t label_offsets = 0;  // int64_t[N]: where each label starts in labels
    size_t scratch = 0;        // the first thread's scratch region
    size_t scratch_stride = 0; // bytes from one thread's region to the next
    // Byte offsets within a thread's scratch region.
    size_t alpha = 0, beta = 0, log_norm = 0, occupancy = 0, state_slot = 0, slot_class = 0;
    size_t total_bytes = 0;    // including slack to align an unaligned workspace
};

// Plans the workspace of a validated batch; fails only on size overflow.
fastctc_status plan_workspace(const fastctc_batch &batch, int num_threads, bool with_grad,
                              WorkspaceLayout *layout);

Scratch thread_scratch(void *base, const WorkspaceLayout &layout, int thread);

}  // namespace fastctc
