// The layout of the caller-owned workspace.
//
// One plan serves both fastctc_workspace_size() and the compute calls, so the
// size reported is exactly the size used.  The workspace holds bookkeeping (the
// processing order and label offsets, N entries each), scratch regions and
// per-thread buffers.  Two modes:
// - one sequence per thread (the usual case): each thread has a scratch region
//   sized for the largest sequence, so memory is O(threads x longest sequence),
//   independent of the batch size (and of C, but for a row of a frame's
//   exponentials per thread and a class table where uses_class_table(), one
//   a lane of a group);
//   Sequences with short labels go eight or four at a time
//   (grouped_lattice.hpp), in the same region, which is sized for whichever
//   needs more;
// - one sequence shared by all threads (N == 1 with several threads): a single
//   scratch region, where the forward and backward recursions run concurrently,
//   each in rolling rows of its own once they pass the middle frame.
// The log-space path, when needed, reuses the probability-space path's memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "byte_counter.hpp"
#include "fastctc/ctc.h"
#include "scratch.hpp"

namespace fastctc {

// The largest sizes over a batch's sequences, which size every per-thread
// scratch region.
struct Extents {
    uint64_t frames = 0;    // T_n
    uint64_t labels = 0;    // |l_n|
    uint64_t states = 1;    // |l'_n| = 2 |l_n| + 1
    uint64_t row = 1;       // a lattice row: see lattice_row_size()
    uint64_t lattice = 0;   // T_n rows (an upper bound of T_n |l'_n|)
    uint64_t emission = 0;  // T_n (|l_n| + 1)
    uint64_t frame_scales = 0;  // T_n frame_scale_count(|l_n|)
    // Over the sequences that are groupable() (scratch.hpp):
    uint64_t grouped = 0;       // how many
    uint64_t group_frames = 0;  // T_n
    uint64_t group_labels = 0;  // |l_n|
};

// Fills *out from a validated batch; false when a size overflows.
bool batch_extents(const fastctc_batch &batch, Extents *out);

// Byte offsets of the regions within one scratch region.
struct ScratchRegions {
    size_t alpha = 0, beta = 0, forward_scales = 0, backward_scales = 0, emissions = 0,
           log_scale = 0, skip = 0, klass = 0, source = 0, repeats = 0, repeat_slots = 0;
};

// Byte offsets of a group's regions (GroupScratch) within a scratch region.
struct GroupRegions {
    size_t alpha = 0, beta = 0, emissions = 0, log_scale = 0, skip = 0, products = 0, row = 0,
           frame_emissions = 0, klass = 0, source = 0, repeats = 0, repeat_slots = 0;
};

struct WorkspaceLayout {
    int num_threads = 1;
    bool shared_sequence = false;  // one sequence, all threads
    bool with_grad = false;
    bool grouping = false;         // groups of short sequences (GroupScratch)
    int64_t wide_grouped = 0;      // how many of them go in groups of kWideGroup
    int group_lanes = kGroupSize;  // the widest group's lanes, which GroupScratch is sized for
    int64_t longest_label = 0;     // the longest label of the batch
    int64_t group_labels = 0;      // the longest label of a groupable() sequence
    // Byte offsets from the aligned base of the workspace.
    size_t order = 0;               // int64_t[N]: sequences, most work first
    size_t label_offsets = 0;       // int64_t[N]: where each label starts in labels
    size_t unit_starts = 0;         // int64_t[N]: where each unit of work starts in order
    size_t scratch = 0;             // the first scratch region
    size_t scratch_stride = 0;      // to the next thread's region (0 when shared)
    size_t buffers = 0;             // the first thread's buffers (ThreadBuffers)
    size_t buffers_stride = 0;      // to the next thread's
    size_t frame_exps = 0;          // within one thread's buffers
    size_t products = 0;
    size_t by_slot = 0;
    ScratchRegions regions;
    GroupRegions group_regions;     // in the same scratch regions: a thread uses one at a time
    size_t total_bytes = 0;         // including slack to align an unaligned workspace
};

// Whether the batch is worked on as one sequence shared by all threads.
bool uses_shared_sequence(int64_t batch_size, int num_threads);

// Plans the workspace of a validated batch from its extents (batch_extents());
// fails only on size overflow.  With a gradient, total_bytes is at least the
// loss alone's.  eight_lane_vectors: whether the kernels hold a group's eight
// lanes in one vector register, where wide groups pay on larger rows and for
// the loss alone.
fastctc_status plan_workspace(const fastctc_batch &batch, const Extents &e, int num_threads, bool with_grad,
                              bool eight_lane_vectors, WorkspaceLayout *layout);

// A thread's views of the workspace (the shared region in shared mode).
struct ThreadScratch {
    LatticeScratch lattice;
    GroupScratch group;
    ThreadBuffers buffers;
};

ThreadScratch thread_scratch(void *base, const WorkspaceLayout &layout, int thread);

}  // namespace fastctc
